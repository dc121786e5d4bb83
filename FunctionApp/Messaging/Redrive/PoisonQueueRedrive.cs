using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using FunctionApp.Core;

namespace FunctionApp.Messaging.Redrive;

/// <summary>
/// Moves messages from the standalone Storage poison queue (<c>&lt;queue&gt;-poison</c>) back onto the queue, text
/// unchanged and with no expiry, as the app enqueues them. Each message is put on the queue first and only then deleted
/// from the poison queue, so an interruption leaves it in one place or both (a copy in both is applied twice, which the
/// store's receipts make harmless). Storage queues have no duplicate detection, so nothing needs holding; the queue
/// gives each copy a new message id, and the batch's own ids travel in the text.
/// </summary>
public sealed class PoisonQueueRedrive(QueueClient queue, QueueClient poisonQueue)
{
    /// <summary>The most messages one Storage receive returns.</summary>
    private const int PageSize = 32;

    /// <summary>
    /// How long a received message stays hidden in the poison queue while this run handles it: a run that dies gives
    /// its messages back after that.
    /// </summary>
    public TimeSpan HiddenFor { get; init; } = TimeSpan.FromMinutes(5);

    public string Source => poisonQueue.Name;

    public async Task<RedriveSummary> RunAsync(RedriveRequest request, RedriveReport report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(report);
        report.Start(poisonQueue.Name, queue.Name, request.MaxMessages);

        // A Storage queue peeks its first 32 messages only, so a dry run also receives: it hides what it lists until
        // the end of the run (so each message is listed once), then hands everything back at once.
        var listed = new List<QueueMessage>();
        var taken = 0;
        var failed = false;
        try
        {
            while (taken < request.MaxMessages && !failed && !cancellationToken.IsCancellationRequested)
            {
                QueueMessage[] page = await poisonQueue.ReceiveMessagesAsync(Math.Min(PageSize, request.MaxMessages - taken), HiddenFor, cancellationToken)
                    .ConfigureAwait(false);
                if (page.Length == 0)
                {
                    break;
                }

                foreach (var message in page)
                {
                    if (failed || cancellationToken.IsCancellationRequested)
                    {
                        await ReleaseAsync(message).ConfigureAwait(false);
                        continue;
                    }

                    taken++;
                    if (request.DryRun)
                    {
                        listed.Add(message);
                        report.Moved(Describe(message));
                        continue;
                    }

                    failed = !await MoveOneAsync(message, report).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Interrupted while waiting for the poison queue: nothing was in hand.
        }
        finally
        {
            foreach (var message in listed)
            {
                await ReleaseAsync(message).ConfigureAwait(false);
            }
        }

        return report.Finish(cancellationToken.IsCancellationRequested);
    }

    private async Task<bool> MoveOneAsync(QueueMessage message, RedriveReport report)
    {
        try
        {
            await queue.SendMessageAsync(message.MessageText, visibilityTimeout: null, timeToLive: StorageQueueEventQueue.NeverExpires, CancellationToken.None)
                .ConfigureAwait(false);
        }
        catch (RequestFailedException ex)
        {
            report.Failed(Describe(message), $"not put on {queue.Name} ({ex.Status} {ex.ErrorCode}); it stays in {poisonQueue.Name}");
            await ReleaseAsync(message).ConfigureAwait(false);
            return false;
        }

        try
        {
            await poisonQueue.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None).ConfigureAwait(false);
        }
        catch (RequestFailedException ex)
        {
            report.Failed(Describe(message),
                $"put on {queue.Name}, but its poison copy could not be deleted ({ex.Status} {ex.ErrorCode}); a later run puts it there again, which is harmless");
            return false;
        }

        report.Moved(Describe(message));
        return true;
    }

    /// <summary>Makes a message visible again at once (best effort: otherwise it shows again after <see cref="HiddenFor"/>).</summary>
    private async Task ReleaseAsync(QueueMessage message)
    {
        try
        {
            await poisonQueue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: TimeSpan.Zero, cancellationToken: CancellationToken.None)
                .ConfigureAwait(false);
        }
        catch (RequestFailedException)
        {
            // It shows again when its visibility timeout ends.
        }
    }

    /// <summary>The queue's message id and insertion time, and the batch's id and part when the text holds a batch (the reason is in the app's log).</summary>
    private static string Describe(QueueMessage message)
    {
        string batch;
        try
        {
            var decoded = RelationshipQueueMessage.Decode(message.MessageText);
            batch = $"batch {decoded.BatchId}-{decoded.Part}";
        }
        catch (InvalidBatchException ex)
        {
            batch = "not a batch: " + ex.Message.ReplaceLineEndings(" ");
        }

        var inserted = message.InsertedOn is { } on ? RedriveReport.Time(on) : "unknown";
        return $"{message.MessageId} inserted {inserted} {batch}";
    }
}
