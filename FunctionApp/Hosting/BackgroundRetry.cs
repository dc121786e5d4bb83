namespace FunctionApp.Hosting;

/// <summary>Startup work that must not hold up the first answer: tried in the background until it succeeds, backing off.</summary>
internal static class BackgroundRetry
{
    private static readonly TimeSpan FirstDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromMinutes(1);

    /// <summary>Runs <paramref name="attempt"/> until it returns or <paramref name="stopping"/> is cancelled; each failure is reported with the wait that follows it.</summary>
    public static async Task UntilDoneAsync(Func<CancellationToken, Task> attempt, Action<TimeSpan, Exception> failed, CancellationToken stopping)
    {
        var delay = FirstDelay;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await attempt(stopping).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                failed(delay, ex);
            }

            try
            {
                await Task.Delay(delay, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxDelay.Ticks));
        }
    }
}
