using FunctionApp.Messaging;
using Microsoft.Extensions.Time.Testing;

namespace FunctionApp.Tests.Messaging;

public class AcknowledgementPressureTests
{
    private static readonly TimeSpan Target = TimeSpan.FromMilliseconds(100);

    private static EnqueueLatencyWindow Calm => new(20, 0, TimeSpan.FromMilliseconds(40));
    private static EnqueueLatencyWindow Slow => new(20, 0, TimeSpan.FromMilliseconds(101));
    private static EnqueueLatencyWindow Failing => new(20, 1, TimeSpan.FromMilliseconds(30));
    private static EnqueueLatencyWindow NoCallbacks => new(0, 0, TimeSpan.Zero);

    [Fact]
    public void The_limit_starts_at_the_maximum_and_a_calm_window_keeps_it_there()
    {
        var limit = new DrainConcurrencyLimit(4, Target);
        Assert.Equal(4, limit.Current);
        Assert.Equal(4, limit.Adjust(Calm));
        Assert.Equal(4, limit.Adjust(NoCallbacks));
    }

    [Fact]
    public void A_slow_window_halves_the_limit_down_to_a_pause()
    {
        var limit = new DrainConcurrencyLimit(8, Target);
        Assert.Equal([4, 2, 1, 0, 0], Enumerable.Range(0, 5).Select(_ => limit.Adjust(Slow)).ToArray());
    }

    [Fact]
    public void A_failed_enqueue_stops_the_drain_at_once_however_fast_the_others_were()
    {
        var limit = new DrainConcurrencyLimit(4, Target);
        Assert.Equal(0, limit.Adjust(Failing));
        Assert.Equal(1, limit.Adjust(Calm));
    }

    [Fact]
    public void An_enqueue_exactly_at_the_target_is_not_congestion()
    {
        var limit = new DrainConcurrencyLimit(4, Target);
        limit.Adjust(Slow);
        Assert.Equal(3, limit.Adjust(new EnqueueLatencyWindow(5, 0, Target)));
    }

    [Fact]
    public void After_a_pause_the_limit_climbs_back_one_per_calm_window_and_stops_at_the_maximum()
    {
        var limit = new DrainConcurrencyLimit(4, Target);
        while (limit.Current > 0)
        {
            limit.Adjust(Slow);
        }

        Assert.Equal([1, 2, 3, 4, 4], new[] { NoCallbacks, Calm, NoCallbacks, Calm, Calm }.Select(limit.Adjust).ToArray());
    }

    [Fact]
    public void Alternating_load_settles_low_rather_than_at_the_maximum()
    {
        // One slow window in every three: halving outweighs the climbing, so the drain keeps well below its maximum.
        var limit = new DrainConcurrencyLimit(16, Target);
        var seen = new List<int>();
        for (var i = 0; i < 60; i++)
        {
            seen.Add(limit.Adjust(i % 3 == 0 ? Slow : Calm));
        }

        Assert.True(seen.Skip(30).Max() <= 4, string.Join(',', seen));
    }

    [Theory]
    [InlineData(0, 100)]
    [InlineData(4, 0)]
    public void A_limit_needs_a_positive_maximum_and_target(int maximum, int targetMilliseconds)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new DrainConcurrencyLimit(maximum, TimeSpan.FromMilliseconds(targetMilliseconds)));
    }

    [Fact]
    public void The_monitor_reports_count_failures_and_the_slowest_since_the_last_window_then_starts_afresh()
    {
        var clock = new FakeTimeProvider();
        var monitor = new EnqueueLatencyMonitor(clock);
        Assert.Equal(new EnqueueLatencyWindow(0, 0, TimeSpan.Zero), monitor.TakeWindow());

        Finish(monitor, clock, TimeSpan.FromMilliseconds(12), succeeded: true);
        Finish(monitor, clock, TimeSpan.FromMilliseconds(250), succeeded: true);
        Finish(monitor, clock, TimeSpan.FromMilliseconds(1000), succeeded: false);
        Finish(monitor, clock, TimeSpan.FromMilliseconds(30), succeeded: true);

        Assert.Equal(new EnqueueLatencyWindow(4, 1, TimeSpan.FromMilliseconds(1000)), monitor.TakeWindow());
        Assert.Equal(new EnqueueLatencyWindow(0, 0, TimeSpan.Zero), monitor.TakeWindow());
    }

    [Fact]
    public void An_enqueue_still_running_counts_by_its_age_until_it_finishes()
    {
        var clock = new FakeTimeProvider();
        var monitor = new EnqueueLatencyMonitor(clock);
        var stuck = monitor.Started();
        clock.Advance(TimeSpan.FromMilliseconds(300));
        Finish(monitor, clock, TimeSpan.FromMilliseconds(20), succeeded: true);

        // Nothing slow has finished, but one enqueue has been running for 320 ms.
        Assert.Equal(new EnqueueLatencyWindow(1, 0, TimeSpan.FromMilliseconds(320)), monitor.TakeWindow());
        clock.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal(new EnqueueLatencyWindow(0, 0, TimeSpan.FromMilliseconds(420)), monitor.TakeWindow());

        monitor.Finished(stuck, succeeded: false);
        Assert.Equal(new EnqueueLatencyWindow(1, 1, TimeSpan.FromMilliseconds(420)), monitor.TakeWindow());
        Assert.Equal(new EnqueueLatencyWindow(0, 0, TimeSpan.Zero), monitor.TakeWindow());

        // A ticket finishes once.
        monitor.Finished(stuck, succeeded: false);
        Assert.Equal(new EnqueueLatencyWindow(0, 0, TimeSpan.Zero), monitor.TakeWindow());
    }

    [Fact]
    public async Task The_monitor_loses_no_enqueue_reported_from_many_threads()
    {
        var monitor = new EnqueueLatencyMonitor(TimeProvider.System);
        var windows = new List<EnqueueLatencyWindow>();
        using var stop = new CancellationTokenSource();
        var reader = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                windows.Add(monitor.TakeWindow());
                await Task.Yield();
            }
        });

        await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(() =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                monitor.Finished(monitor.Started(), succeeded: i % 100 != 0);
            }
        })));
        await stop.CancelAsync();
        await reader;
        windows.Add(monitor.TakeWindow());

        Assert.Equal(80_000, windows.Sum(w => w.Enqueues));
        Assert.Equal(800, windows.Sum(w => w.Failed));
    }

    private static void Finish(EnqueueLatencyMonitor monitor, FakeTimeProvider clock, TimeSpan latency, bool succeeded)
    {
        var ticket = monitor.Started();
        clock.Advance(latency);
        monitor.Finished(ticket, succeeded);
    }
}
