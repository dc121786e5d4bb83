using Azure.Messaging.ServiceBus;
using FunctionApp.Core;

namespace FunctionApp.Messaging.Redrive;

/// <summary>
/// Moves messages from a Service Bus queue's dead-letter sub-queue back onto the queue. Each message is sent first
/// (body, <c>MessageId</c>, content type and application properties kept; the broker's dead-letter reason and
/// description dropped, as <see cref="ServiceBusMessage(ServiceBusReceivedMessage)"/> does) and only then completed in
/// the dead-letter queue, so an interruption at any point leaves the message in one place or both, never in neither; a
/// copy in both is applied twice, which the store's receipts make harmless.
/// <para>
/// The queue drops a message whose <c>MessageId</c> it has seen within its duplicate-detection window, and still reports
/// the send as accepted. A batch dead-lettered minutes after it was first enqueued still has its id in that window:
/// re-sent then, it would be dropped and its dead-letter copy completed, and the batch lost. So a message enqueued
/// less than the window (plus <see cref="RedriveRequest.ClockSkewAllowance"/>) ago is held: left locked, untouched,
/// for the rest of the run and handed back at its end, and reported with the time after which it can move. A message
/// enqueued earlier can only be dropped if another message with its id was accepted since, and that copy carries the
/// same batch (the id is the batch's id and part), so nothing is lost.
/// </para>
/// </summary>
public sealed class DeadLetterRedrive(ServiceBusClient client, string queueName, TimeProvider time)
{
    /// <summary>Messages asked for per receive or peek.</summary>
    private const int PageSize = 50;

    /// <summary>How long a receive waits for a message before the dead-letter queue counts as empty.</summary>
    public TimeSpan EmptyWait { get; init; } = TimeSpan.FromSeconds(3);

    public string Source => $"{queueName}/$DeadLetterQueue";

    public async Task<RedriveSummary> RunAsync(RedriveRequest request, RedriveReport report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(report);
        report.Start(Source, queueName, request.MaxMessages);
        await using var receiver = client.CreateReceiver(queueName, new ServiceBusReceiverOptions
        {
            SubQueue = SubQueue.DeadLetter,
            ReceiveMode = ServiceBusReceiveMode.PeekLock,
            PrefetchCount = 0,
        });
        return request.DryRun
            ? await ListAsync(receiver, request, report, cancellationToken).ConfigureAwait(false)
            : await MoveAsync(receiver, request, report, cancellationToken).ConfigureAwait(false);
    }

    private async Task<RedriveSummary> ListAsync(ServiceBusReceiver receiver, RedriveRequest request, RedriveReport report, CancellationToken cancellationToken)
    {
        // Peeks lock nothing and count no delivery; each one goes on from where the last one ended.
        var listed = 0;
        while (listed < request.MaxMessages && !cancellationToken.IsCancellationRequested)
        {
            var page = await receiver.PeekMessagesAsync(Math.Min(PageSize, request.MaxMessages - listed), cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            if (page.Count == 0)
            {
                break;
            }

            foreach (var message in page.Take(request.MaxMessages - listed))
            {
                listed++;
                if (HeldUntil(message, request) is { } until)
                {
                    report.Held(Describe(message), until, HeldReason(request));
                }
                else
                {
                    report.Moved(Describe(message));
                }
            }
        }

        return report.Finish(cancellationToken.IsCancellationRequested);
    }

    private async Task<RedriveSummary> MoveAsync(ServiceBusReceiver receiver, RedriveRequest request, RedriveReport report, CancellationToken cancellationToken)
    {
        await using var sender = client.CreateSender(queueName);
        var held = new List<ServiceBusReceivedMessage>();
        var seen = new HashSet<long>();
        var taken = 0;
        var failed = false;
        try
        {
            while (taken < request.MaxMessages && !failed && !cancellationToken.IsCancellationRequested)
            {
                var page = await receiver.ReceiveMessagesAsync(Math.Min(PageSize, request.MaxMessages - taken), EmptyWait, cancellationToken)
                    .ConfigureAwait(false);
                if (page.Count == 0)
                {
                    break;
                }

                var wrapped = false;
                foreach (var message in page)
                {
                    if (failed || cancellationToken.IsCancellationRequested)
                    {
                        await ReleaseAsync(receiver, message).ConfigureAwait(false);
                        continue;
                    }

                    // Held locks that lapsed during a long run hand the same messages out again: everything left was seen.
                    if (!seen.Add(message.SequenceNumber))
                    {
                        wrapped = true;
                        await ReleaseAsync(receiver, message).ConfigureAwait(false);
                        continue;
                    }

                    taken++;
                    if (HeldUntil(message, request) is { } until)
                    {
                        held.Add(message);
                        report.Held(Describe(message), until, HeldReason(request));
                        continue;
                    }

                    failed = !await MoveOneAsync(receiver, sender, message, report).ConfigureAwait(false);
                }

                if (wrapped)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Interrupted while waiting for messages: nothing was in hand.
        }
        finally
        {
            foreach (var message in held)
            {
                await ReleaseAsync(receiver, message).ConfigureAwait(false);
            }
        }

        return report.Finish(cancellationToken.IsCancellationRequested);
    }

    /// <summary>
    /// The copy to send: a batch parked after its retry period carries its redelivery state, and kept, that state would
    /// park it again at its next failure. Dropped, its retries start afresh; the original id stays, so later copies
    /// keep their ids derived from it.
    /// </summary>
    internal static ServiceBusMessage Afresh(ServiceBusReceivedMessage message)
    {
        var copy = new ServiceBusMessage(message);
        copy.ApplicationProperties.Remove(RedeliveryState.GenerationProperty);
        copy.ApplicationProperties.Remove(RedeliveryState.FirstFailedAtProperty);
        return copy;
    }

    /// <summary>Send, then complete; each with no cancellation, so an interruption never falls between the two by choice.</summary>
    private static async Task<bool> MoveOneAsync(ServiceBusReceiver receiver, ServiceBusSender sender, ServiceBusReceivedMessage message, RedriveReport report)
    {
        try
        {
            await sender.SendMessageAsync(Afresh(message), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ServiceBusException or TimeoutException or InvalidOperationException)
        {
            report.Failed(Describe(message), $"not sent ({ErrorText(ex)}); it stays in the dead-letter queue");
            await ReleaseAsync(receiver, message).ConfigureAwait(false);
            return false;
        }

        try
        {
            await receiver.CompleteMessageAsync(message, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ServiceBusException or TimeoutException or InvalidOperationException)
        {
            report.Failed(Describe(message),
                $"sent to the queue, but its dead-letter copy could not be removed ({ErrorText(ex)}); a later run sends it again, which is harmless");
            return false;
        }

        report.Moved(Describe(message));
        return true;
    }

    /// <summary>Hands a message back unchanged (best effort: a lapsed lock hands it back anyway).</summary>
    private static async Task ReleaseAsync(ServiceBusReceiver receiver, ServiceBusReceivedMessage message)
    {
        try
        {
            await receiver.AbandonMessageAsync(message, cancellationToken: CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ServiceBusException or TimeoutException or InvalidOperationException)
        {
            // Its lock lapses within the queue's lock duration.
        }
    }

    private DateTimeOffset? HeldUntil(ServiceBusReceivedMessage message, RedriveRequest request)
    {
        if (request.DuplicateDetectionWindow <= TimeSpan.Zero)
        {
            return null;
        }

        var until = message.EnqueuedTime + request.DuplicateDetectionWindow + request.ClockSkewAllowance;
        return until > time.GetUtcNow() ? until : null;
    }

    private static string HeldReason(RedriveRequest request) =>
        $"its MessageId may still be in the queue's {request.DuplicateDetectionWindow.TotalMinutes:0.##}-minute duplicate-detection window, " +
        "where Service Bus would drop the copy";

    private static string Describe(ServiceBusReceivedMessage message)
    {
        var reason = message.DeadLetterReason is null ? "" : $" reason {message.DeadLetterReason}";
        var description = message.DeadLetterErrorDescription is null ? "" : $": {OneLine(message.DeadLetterErrorDescription)}";
        return $"{message.MessageId} enqueued {RedriveReport.Time(message.EnqueuedTime)}{reason}{description}";
    }

    private static string ErrorText(Exception ex) => ErrorDescription.Of(ex);

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
