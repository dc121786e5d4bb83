using System.Globalization;
using System.Runtime.InteropServices;
using ServiceBusTestBroker;

namespace LoadGenerator;

/// <summary>
/// <c>broker</c>: the project's Service Bus test broker as a process of its own, for the app and the baselines to
/// share. It makes the <c>--queue</c>s with the deployed queues' settings (infra/main.bicep: lock 1 minute, max
/// delivery count 10, duplicate detection over 10 minutes), prints its connection string on the first line of
/// standard output, and rewrites <c>--status</c> every 100 ms with one line per queue (<see cref="BrokerStatus"/>)
/// until it gets SIGTERM or Ctrl-C.
/// </summary>
internal static class BenchBroker
{
    public static readonly TimeSpan LockDuration = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan DuplicateDetectionWindow = TimeSpan.FromMinutes(10);
    public const int MaxDeliveryCount = 10;

    public static async Task<int> RunAsync(Options options, CancellationToken cancellationToken)
    {
        var statusFile = options.Required("status");
        var names = options.All("queue");
        await using var broker = ServiceBusBroker.Start();
        var queues = names.Select(name => broker.CreateQueue(name, MaxDeliveryCount, LockDuration, DuplicateDetectionWindow)).ToArray();

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, signal =>
        {
            signal.Cancel = true;
            stop.Cancel();
        });

        var temporary = statusFile + ".tmp";
        await WriteStatusAsync(queues, temporary, statusFile);
        Console.WriteLine(broker.ConnectionString);
        Console.Out.Flush();
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(100, stop.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            await WriteStatusAsync(queues, temporary, statusFile);
        }

        return 0;
    }

    /// <summary>Written aside and moved into place, so a reader never sees half a file.</summary>
    private static async Task WriteStatusAsync(BrokerQueue[] queues, string temporary, string statusFile)
    {
        await File.WriteAllLinesAsync(temporary, queues.Select(BrokerStatus.Format), CancellationToken.None);
        File.Move(temporary, statusFile, overwrite: true);
    }
}

/// <summary>
/// One queue's line in the broker's status file: <c>queue=NAME active=N dead_letter=N sent=N completed=N duplicates=N</c>
/// (active: available or locked; sent: accepted, dropped duplicates not counted).
/// </summary>
internal sealed record BrokerStatus(string Queue, long Active, long DeadLetter, long Sent, long Completed, long Duplicates)
{
    public static string Format(BrokerQueue queue) => string.Create(CultureInfo.InvariantCulture,
        $"queue={queue.Name} active={queue.ActiveMessageCount} dead_letter={queue.DeadLetterMessageCount} sent={queue.TotalSent} "
        + $"completed={queue.CompletedCount} duplicates={queue.DuplicatesDropped}");

    public static BrokerStatus Read(string statusFile, string queue)
    {
        var line = File.ReadLines(statusFile).FirstOrDefault(l => l.StartsWith("queue=" + queue + " ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"The broker's status file {statusFile} has no queue '{queue}'.");
        var fields = line.Split(' ').Select(f => f.Split('=', 2)).ToDictionary(f => f[0], f => f[1], StringComparer.Ordinal);
        long Number(string name) => long.Parse(fields[name], CultureInfo.InvariantCulture);
        return new BrokerStatus(queue, Number("active"), Number("dead_letter"), Number("sent"), Number("completed"), Number("duplicates"));
    }
}
