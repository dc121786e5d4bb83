using System.CommandLine;
using System.Globalization;
using System.Xml;
using Azure;
using Azure.Messaging.ServiceBus;
using FunctionApp.Core;
using FunctionApp.Messaging;
using FunctionApp.Messaging.Redrive;

namespace FunctionApp.Hosting;

/// <summary>
/// <c>FunctionApp redrive --source deadletter|poison --max N [--dry-run] [--duplicate-detection-window PT10M]</c>: the
/// operator's command that puts dead-lettered (Service Bus) or poisoned (standalone Storage queue) batches back on the
/// queue, once their cause is fixed. It reads the same settings as the app (<c>ServiceBusConnection</c>,
/// <c>RelationshipStorage</c>, <c>RelationshipEventsQueue</c>) from the environment.
/// </summary>
public static class RedriveCommand
{
    public const string Name = "redrive";

    /// <summary>Exit code of bad arguments or settings (the usage is printed).</summary>
    public const int UsageExitCode = 2;

    /// <summary>Exit code when the source or the queue could not be reached at all.</summary>
    public const int FailureExitCode = 1;

    public const string Usage =
        "Usage: FunctionApp redrive --source deadletter|poison --max N [--dry-run] [--duplicate-detection-window PT10M]";

    /// <summary>Whether the command line asks for the re-drive rather than the app.</summary>
    public static bool IsInvoked(IReadOnlyList<string> args) => args.Count > 0 && args[0] == Name;

    /// <param name="args">The whole command line, starting with <see cref="Name"/>.</param>
    /// <param name="configuration">Where the settings come from (the environment when run as a process).</param>
    /// <param name="handleSignals">Ctrl-C and SIGTERM stop the run after the message in hand (the process's own run); off in tests.</param>
    public static async Task<int> RunAsync(
        IReadOnlyList<string> args,
        IConfiguration configuration,
        TextWriter output,
        TextWriter error,
        bool handleSignals = false,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(configuration);
        var source = new Option<string>("--source")
        {
            Description = "deadletter: the Service Bus queue's dead-letter sub-queue (ServiceBusConnection). " +
                          "poison: the standalone Storage queue's <queue>-poison (RelationshipStorage).",
            Required = true,
        }.AcceptOnlyFromAmong(Sources.DeadLetter, Sources.Poison);
        var max = new Option<int>("--max")
        {
            Description = "Most messages to take from the source in this run (at least 1).",
            Required = true,
            CustomParser = result => ParseCount(result.Tokens.Single().Value, result.AddError),
        };
        var dryRun = new Option<bool>("--dry-run") { Description = "List what would move (MessageId, enqueued time, dead-letter reason) and move nothing." };
        var window = new Option<TimeSpan>("--duplicate-detection-window")
        {
            Description = "The queue's duplicate-detection window (infra: duplicateDetectionHistoryTimeWindow), as PT10M or 00:10:00; " +
                          "dead letters enqueued less than this (plus 30 s) ago are held. PT0S for a queue without duplicate detection.",
            DefaultValueFactory = _ => RedriveRequest.DefaultDuplicateDetectionWindow,
            CustomParser = result => ParseDuration(result.Tokens.Single().Value, result.AddError),
        };
        var redrive = new Command(Name, "Move dead-lettered or poisoned batches back onto the queue (send first, then remove).")
        {
            source, max, dryRun, window,
        };
        redrive.SetAction((parsed, stopping) => RedriveAsync(
            parsed.GetRequiredValue(source),
            new RedriveRequest(parsed.GetValue(max), parsed.GetValue(dryRun)) { DuplicateDetectionWindow = parsed.GetValue(window) },
            configuration, output, error, stopping));
        var root = new RootCommand("Relationship callbacks. Without a command the app itself starts; commands:") { redrive };

        var parseResult = root.Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            foreach (var parseError in parseResult.Errors)
            {
                await error.WriteLineAsync(parseError.Message).ConfigureAwait(false);
            }

            await error.WriteLineAsync(Usage).ConfigureAwait(false);
            await error.WriteLineAsync("Run 'FunctionApp redrive --help' for what each option means.").ConfigureAwait(false);
            return UsageExitCode;
        }

        return await parseResult.InvokeAsync(new InvocationConfiguration
        {
            Output = output,
            Error = error,
            // Long enough for the message in hand to be sent and removed; the run stops before the next one.
            ProcessTerminationTimeout = handleSignals ? TimeSpan.FromSeconds(30) : null,
        }, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<int> RedriveAsync(
        string source, RedriveRequest request, IConfiguration configuration, TextWriter output, TextWriter error, CancellationToken stopping)
    {
        var report = new RedriveReport(output, request.DryRun);
        try
        {
            var queueName = StandaloneQueueSettings.QueueName(configuration);
            if (source == Sources.DeadLetter)
            {
                await using var client = ServiceBusConnection.CreateClient(configuration, profile: ServiceBusClientProfile.Apply);
                var redrive = new DeadLetterRedrive(client, queueName, TimeProvider.System);
                return (await redrive.RunAsync(request, report, stopping).ConfigureAwait(false)).ExitCode;
            }

            var queues = StorageClients.FromConfiguration(configuration).GetQueueServiceClient(StorageClientProfile.Apply);
            var poison = new PoisonQueueRedrive(queues.GetQueueClient(queueName), queues.GetQueueClient(StorageQueueDrain.PoisonQueueName(queueName)));
            return (await poison.RunAsync(request, report, stopping).ConfigureAwait(false)).ExitCode;
        }
        catch (InvalidOperationException ex)
        {
            // A missing or malformed setting: the message names it (and nothing of a secret value).
            await error.WriteLineAsync(ex.Message).ConfigureAwait(false);
            await error.WriteLineAsync(Usage).ConfigureAwait(false);
            return UsageExitCode;
        }
        catch (Exception ex) when (ex is ServiceBusException or RequestFailedException or TimeoutException or UnauthorizedAccessException
                                       or Azure.Identity.AuthenticationFailedException)
        {
            await error.WriteLineAsync($"Re-drive failed: {ErrorDescription.Of(ex)}").ConfigureAwait(false);
            await error.WriteLineAsync("Nothing is lost: every message taken is in the source, on the queue, or in both.").ConfigureAwait(false);
            return FailureExitCode;
        }
    }

    private static int ParseCount(string text, Action<string> addError)
    {
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count >= 1)
        {
            return count;
        }

        addError($"--max must be a whole number of at least 1; it is '{text}'.");
        return default;
    }

    /// <summary>An ISO 8601 duration (PT10M, as Bicep writes it) or a .NET time span (00:10:00).</summary>
    private static TimeSpan ParseDuration(string text, Action<string> addError)
    {
        try
        {
            var duration = text.StartsWith('P') ? XmlConvert.ToTimeSpan(text) : TimeSpan.Parse(text, CultureInfo.InvariantCulture);
            if (duration >= TimeSpan.Zero)
            {
                return duration;
            }
        }
        catch (FormatException)
        {
        }
        catch (OverflowException)
        {
        }

        addError($"--duplicate-detection-window must be a duration such as PT10M or 00:10:00; it is '{text}'.");
        return default;
    }

    private static class Sources
    {
        public const string DeadLetter = "deadletter";
        public const string Poison = "poison";
    }
}
