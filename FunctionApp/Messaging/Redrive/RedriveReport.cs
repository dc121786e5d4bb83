using System.Globalization;

namespace FunctionApp.Messaging.Redrive;

/// <summary>What one re-drive is asked to do.</summary>
/// <param name="MaxMessages">Most messages taken from the source in this run (moved, held and failed together).</param>
/// <param name="DryRun">List what would move and move nothing.</param>
public sealed record RedriveRequest(int MaxMessages, bool DryRun)
{
    /// <summary>
    /// The queue's duplicate-detection window (Bicep <c>duplicateDetectionHistoryTimeWindow</c>, 10 minutes). Zero: the
    /// queue has none, and nothing is held.
    /// </summary>
    public TimeSpan DuplicateDetectionWindow { get; init; } = DefaultDuplicateDetectionWindow;

    /// <summary>Added to the window for the difference between this machine's clock and the broker's.</summary>
    public TimeSpan ClockSkewAllowance { get; init; } = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan DefaultDuplicateDetectionWindow = TimeSpan.FromMinutes(10);
}

/// <summary>How a re-drive ended: the counts, the latest time a held message may move, and whether it was stopped early.</summary>
public sealed record RedriveSummary(int Moved, int Skipped, int Failed, DateTimeOffset? HeldUntil, bool Interrupted)
{
    /// <summary>0 done (held messages included), 1 a message failed, 130 interrupted (as a shell reports Ctrl-C).</summary>
    public int ExitCode => Failed > 0 ? 1 : Interrupted ? 130 : 0;
}

/// <summary>
/// The re-drive's output: one line per message as it is handled (the progress), then a summary with the counts.
/// Lines are tab-free and start with what happened, so they read in a terminal and grep well.
/// </summary>
public sealed class RedriveReport(TextWriter output, bool dryRun)
{
    private int _moved;
    private int _skipped;
    private int _failed;
    private DateTimeOffset? _heldUntil;

    public void Start(string from, string to, int maxMessages) =>
        output.WriteLine(dryRun
            ? $"Dry run: listing up to {maxMessages} messages of {from} that would move to {to}; nothing is moved."
            : $"Re-drive: moving up to {maxMessages} messages from {from} to {to}.");

    /// <summary>A message moved (dry run: one that would move).</summary>
    public void Moved(string message)
    {
        _moved++;
        Line(dryRun ? "would move" : "moved", message);
    }

    /// <summary>A message left where it is until <paramref name="until"/>.</summary>
    public void Held(string message, DateTimeOffset until, string why)
    {
        _skipped++;
        if (_heldUntil is null || until > _heldUntil)
        {
            _heldUntil = until;
        }

        Line(dryRun ? "would hold" : "held", $"{message} until {Time(until)}: {why}");
    }

    /// <summary>A message that could not be moved; it stays in the source.</summary>
    public void Failed(string message, string why)
    {
        _failed++;
        Line("failed", $"{message}: {why}");
    }

    public RedriveSummary Finish(bool interrupted)
    {
        var summary = new RedriveSummary(_moved, _skipped, _failed, _heldUntil, interrupted);
        var moved = dryRun ? $"would move {_moved}" : $"moved {_moved}";
        var held = _heldUntil is { } until ? $" (held until {Time(until)} at the latest: run again after that)" : "";
        var ending = interrupted ? " Interrupted: run again to move the rest." : _failed > 0 ? " Stopped at the failure: fix its cause and run again." : "";
        output.WriteLine($"Summary: {moved}, skipped {_skipped}{held}, failed {_failed}.{ending}");
        return summary;
    }

    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private void Line(string what, string message) => output.WriteLine($"{what,-10} {message}");
}
