using Azure.Storage.Queues;
using FunctionApp.Api;
using FunctionApp.Storage.Relationships;

namespace FunctionApp.Hosting;

/// <summary>
/// Creates the tables when missing. Standalone, startup waits for it (the drain needs them, and a storage account
/// that does not answer should stop the app with a clear message). In Functions mode it runs in the background,
/// retrying, so the first acknowledgement never waits for it (Bicep creates the tables on Azure anyway).
/// </summary>
internal sealed class RelationshipTablesStartup(TableRelationshipStore store, HostingMode mode, ILoggerFactory loggerFactory) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger _logger = loggerFactory.CreateLogger("FunctionApp.Hosting");
    private Task? _background;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (mode == HostingMode.Standalone)
        {
            try
            {
                await store.EnsureTablesAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                throw new InvalidOperationException(
                    $"The tables could not be created in the storage account named by {AppSettingNames.RelationshipStorage}: {CallbackRequests.Describe(ex)}", ex);
            }

            return;
        }

        _background = Task.Run(() => EnsureInBackgroundAsync(_stopping.Token), CancellationToken.None);
    }

    private Task EnsureInBackgroundAsync(CancellationToken stopping) =>
        BackgroundRetry.UntilDoneAsync(store.EnsureTablesAsync,
            (delay, ex) => StartupLog.TablesNotReady(_logger, AppSettingNames.RelationshipStorage, delay.TotalSeconds, ex), stopping);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_background is not null)
        {
            await _background.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose() => _stopping.Dispose();
}

/// <summary>Standalone: creates the queue and its poison queue before anything is queued or drained.</summary>
internal sealed class StandaloneQueueStartup(QueueClient queue, QueueClient poisonQueue) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            await poisonQueue.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new InvalidOperationException(
                $"Queue {queue.Name} could not be created in the storage account named by {AppSettingNames.RelationshipStorage}: {CallbackRequests.Describe(ex)}", ex);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Health of the tables: one small query (a client of the acknowledgement profile, so a probe fails fast).</summary>
internal sealed class TablesHealthProbe(Azure.Data.Tables.TableClient edges) : IHealthProbe
{
    public string Name => "tables";

    public async Task CheckAsync(CancellationToken cancellationToken)
    {
        await foreach (var _ in edges.QueryAsync<Azure.Data.Tables.TableEntity>(maxPerPage: 1, select: ["PartitionKey"], cancellationToken: cancellationToken)
                           .AsPages().ConfigureAwait(false))
        {
            return; // The first page answers the question.
        }
    }
}

/// <summary>Health of the standalone queue: its properties, which hold the approximate message count.</summary>
internal sealed class QueueHealthProbe(QueueClient queue) : IHealthProbe
{
    public string Name => "queue";

    public Task CheckAsync(CancellationToken cancellationToken) => queue.GetPropertiesAsync(cancellationToken);
}

internal static partial class StartupLog
{
    [LoggerMessage(EventId = 110, Level = LogLevel.Warning,
        Message = "The tables could not be created yet in the storage account named by {Setting}; trying again in {DelaySeconds} s")]
    public static partial void TablesNotReady(ILogger logger, string setting, double delaySeconds, Exception exception);
}
