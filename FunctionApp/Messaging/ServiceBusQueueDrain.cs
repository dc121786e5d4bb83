using Azure.Messaging.ServiceBus;
using FunctionApp.Core;

namespace FunctionApp.Messaging;

/// <summary>
/// Standalone on Service Bus: a <see cref="ServiceBusProcessor"/> in peek-lock over the queue, each message handed to
/// the <see cref="IRelationshipBatchProcessor"/> and settled by its outcome: complete once applied; after a store
/// failure (retried within the delivery first), a copy scheduled after the outcome's growing delay
/// (<see cref="IBatchRedeliveryScheduler"/>) and then the original completed, or abandoned if the copy could not be
/// sent; dead-lettered with reason and description when it can never be applied or its batch has failed for the
/// whole retry period. The processor renews each lock while its batch is applied (and retried); stopping lets the
/// batches in hand finish and settle before the host shuts down.
/// </summary>
public sealed class ServiceBusQueueDrain : IHostedService, IAsyncDisposable
{
    /// <summary>The dead-letter reason of a message that is not a batch this build can apply.</summary>
    public const string InvalidBatchReason = "InvalidRelationshipBatch";

    /// <summary>The dead-letter reason of a batch the store failed on for the whole retry period.</summary>
    public const string RetryPeriodExceededReason = "RetryPeriodExceeded";

    public const string LogCategory = "FunctionApp.Messaging.ServiceBusQueueDrain";

    private readonly ServiceBusProcessor _processor;
    private readonly IRelationshipBatchProcessor _batches;
    private readonly IBatchRedeliveryScheduler _redeliveries;
    private readonly ILogger _logger;
    private Task? _stopping;

    public ServiceBusQueueDrain(ServiceBusClient client, string queueName, IRelationshipBatchProcessor batches, IBatchRedeliveryScheduler redeliveries,
        ServiceBusQueueDrainOptions options, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _batches = batches ?? throw new ArgumentNullException(nameof(batches));
        _redeliveries = redeliveries ?? throw new ArgumentNullException(nameof(redeliveries));
        _logger = loggerFactory.CreateLogger(LogCategory);
        _processor = client.CreateProcessor(queueName, new ServiceBusProcessorOptions
        {
            ReceiveMode = ServiceBusReceiveMode.PeekLock,
            AutoCompleteMessages = false,
            // A prefetched 1,000-edge batch would wait with its lock ticking and no renewal.
            PrefetchCount = 0,
            MaxConcurrentCalls = options.MaxConcurrentCalls,
            MaxAutoLockRenewalDuration = options.MaxLockRenewal,
        });
        _processor.ProcessMessageAsync += SettleAsync;
        // The processor retries on its own; these are its receive, renewal and settle failures, which an operator
        // needs to see (a broker outage, a lost lock).
        _processor.ProcessErrorAsync += args =>
        {
            ServiceBusDrainLog.ProcessorError(_logger, args.ErrorSource.ToString(), LogValue.Escape(args.EntityPath), args.Exception);
            return Task.CompletedTask;
        };
    }

    public Task StartAsync(CancellationToken cancellationToken) => _processor.StartProcessingAsync(cancellationToken);

    /// <summary>
    /// Stops receiving and waits, until the host's shutdown timeout, for the messages in hand to be applied and settled.
    /// A batch still being applied then is left to its lock: it lapses and Service Bus redelivers the message (one
    /// delivery counted, as for an abandon), so nothing is lost and the process still exits on time.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // Not the host's token: the batches in hand keep settling after the host has stopped waiting.
        _stopping = _processor.StopProcessingAsync(CancellationToken.None);
        try
        {
            await _stopping.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The shutdown timeout: the host goes on stopping (a throw here would end the process with an error).
        }
    }

    /// <summary>The processor's own dispose waits for its handlers without a limit, so it is skipped while a stop is still waiting for them.</summary>
    public ValueTask DisposeAsync() => _stopping is { IsCompleted: false } ? ValueTask.CompletedTask : _processor.DisposeAsync();

    private async Task SettleAsync(ProcessMessageEventArgs args)
    {
        var message = args.Message;
        var redelivery = RedeliveryState.FromProperties(name => message.ApplicationProperties.GetValueOrDefault(name));
        // Not the processor's token: a stop must not cut short an apply that is halfway through its writes.
        var outcome = await _batches.ProcessAsync(() => message.Body.ToMemory(), new BatchDelivery(message.DeliveryCount, redelivery), CancellationToken.None)
            .ConfigureAwait(false);
        switch (outcome.Kind)
        {
            case BatchOutcomeKind.Applied:
                await args.CompleteMessageAsync(message, CancellationToken.None).ConfigureAwait(false);
                break;
            case BatchOutcomeKind.NeverApplicable:
                await args.DeadLetterMessageAsync(message, InvalidBatchReason, outcome.Reason, CancellationToken.None).ConfigureAwait(false);
                break;
            case BatchOutcomeKind.RetryPeriodExceeded:
                await args.DeadLetterMessageAsync(message, RetryPeriodExceededReason, outcome.Reason, CancellationToken.None).ConfigureAwait(false);
                break;
            default:
                await RedeliverAsync(args, outcome.Redelivery!).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>The copy first, then the original completed: an interruption between them leaves two copies, never none.</summary>
    private async Task RedeliverAsync(ProcessMessageEventArgs args, Redelivery redelivery)
    {
        var message = args.Message;
        var original = RedeliveryState.OriginalMessageId(name => message.ApplicationProperties.GetValueOrDefault(name), message.MessageId) ?? "";
        try
        {
            await _redeliveries.ScheduleAsync(message.Body.ToMemory(), original, redelivery, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            ServiceBusDrainLog.RedeliveryNotScheduled(_logger, LogValue.Escape(message.MessageId), ex);
            await args.AbandonMessageAsync(message, cancellationToken: CancellationToken.None).ConfigureAwait(false);
            return;
        }

        await args.CompleteMessageAsync(message, CancellationToken.None).ConfigureAwait(false);
    }
}

internal static partial class ServiceBusDrainLog
{
    [LoggerMessage(EventId = 30, Level = LogLevel.Warning,
        Message = "The redelivery of message {MessageId} could not be scheduled; it is abandoned, so Service Bus delivers it again at once")]
    public static partial void RedeliveryNotScheduled(ILogger logger, string? messageId, Exception exception);

    [LoggerMessage(EventId = 31, Level = LogLevel.Warning, Message = "The Service Bus drain's {ErrorSource} failed on {EntityPath}; the processor retries")]
    public static partial void ProcessorError(ILogger logger, string errorSource, string? entityPath, Exception exception);
}

/// <summary>How the Service Bus drain receives; the same defaults as host.json gives the trigger on Azure.</summary>
public sealed record ServiceBusQueueDrainOptions
{
    /// <summary>Batches applied at once (host.json <c>maxConcurrentCalls</c>).</summary>
    public int MaxConcurrentCalls { get; init; } = 4;

    /// <summary>How long a lock is renewed while its batch is applied (host.json <c>maxAutoLockRenewalDuration</c>).</summary>
    public TimeSpan MaxLockRenewal { get; init; } = TimeSpan.FromMinutes(5);
}
