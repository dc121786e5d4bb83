using FunctionApp.Api;
using FunctionApp.Messaging;

namespace FunctionApp.Hosting;

/// <summary>
/// Opens the sender's connection and link in the background, so the first callback neither pays for them nor is
/// held up by a namespace that does not answer yet (its enqueue then fails inside its deadline, as in any outage),
/// and so the queue learns the entity's maximum message size before the first callback is cut.
/// </summary>
internal sealed class ServiceBusStartup(ServiceBusEventQueue queue, ILoggerFactory loggerFactory) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger _logger = loggerFactory.CreateLogger("FunctionApp.Hosting");
    private Task? _background;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _background = Task.Run(() => BackgroundRetry.UntilDoneAsync(queue.ConnectAsync,
            (delay, ex) => ServiceBusStartupLog.NotConnected(_logger, queue.QueueName, AppSettingNames.ServiceBusConnection, delay.TotalSeconds,
                CallbackRequests.Describe(ex)), _stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

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

internal static partial class ServiceBusStartupLog
{
    [LoggerMessage(EventId = 120, Level = LogLevel.Warning,
        Message = "Service Bus queue {Queue} (setting {Setting}) is not reachable yet: {Reason}; trying again in {DelaySeconds} s")]
    public static partial void NotConnected(ILogger logger, string queue, string setting, double delaySeconds, string reason);
}
