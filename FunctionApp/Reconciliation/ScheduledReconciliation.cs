using FunctionApp.Core;

namespace FunctionApp.Reconciliation;

/// <summary>What one scheduled run did, all apps together.</summary>
public sealed record ReconcileRunReport(int Users, int Repaired, int Unchanged, int Failed, int Added, int Removed, int Updated, int PagesRead)
{
    public static ReconcileRunReport Empty { get; } = new(0, 0, 0, 0, 0, 0, 0, 0);

    public ReconcileRunReport Add(ReconcileReport user) => Plus(new(
        1,
        user.Outcome == UserReconciler.Repaired ? 1 : 0,
        user.Outcome == UserReconciler.Unchanged ? 1 : 0,
        user.Outcome == UserReconciler.Failed ? 1 : 0,
        user.Added,
        user.Removed,
        user.Updated,
        user.PagesRead));

    public ReconcileRunReport Plus(ReconcileRunReport other) => new(
        Users + other.Users, Repaired + other.Repaired, Unchanged + other.Unchanged, Failed + other.Failed,
        Added + other.Added, Removed + other.Removed, Updated + other.Updated, PagesRead + other.PagesRead);

    public override string ToString() =>
        $"{Users} users: {Repaired} repaired, {Unchanged} unchanged, {Failed} failed; {Added} added, {Removed} removed, {Updated} updated; {PagesRead} pages read";
}

/// <summary>
/// One scheduled run: per configured app, the next slice of the users the store knows (at most
/// <see cref="ReconciliationOptions.UsersPerRun"/>), from where the last run stopped, reconciled
/// <see cref="ReconciliationOptions.Concurrency"/> at a time. A user's failure is reported and the walk goes on; the
/// cursor moves once the slice is done, and back to the first user when the app's users are all done.
/// </summary>
public sealed class ScheduledReconciliation(
    IPlatformReaders readers,
    IKnownUsers users,
    IReconcileCursors cursors,
    UserReconciler reconciler,
    ReconciliationOptions options,
    ILogger<ScheduledReconciliation> logger)
{
    public async Task<ReconcileRunReport> RunAsync(CancellationToken cancellationToken)
    {
        var total = ReconcileRunReport.Empty;
        foreach (var appId in readers.AppIds)
        {
            try
            {
                var cursor = await cursors.GetAsync(appId, cancellationToken).ConfigureAwait(false);
                var slice = await users.ListAsync(appId, cursor, Math.Max(1, options.UsersPerRun), cancellationToken).ConfigureAwait(false);
                var app = ReconcileRunReport.Empty;
                var gate = new Lock();
                await Parallel.ForEachAsync(slice.UserIds,
                    new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Concurrency), CancellationToken = cancellationToken },
                    async (userId, ct) =>
                    {
                        var report = await reconciler.ReconcileAsync(appId, userId, ct).ConfigureAwait(false);
                        if (report.Error is { } error)
                        {
                            ReconcileLog.UserFailed(logger, appId, userId, error.Kind, error.Detail, report.Added);
                        }

                        lock (gate)
                        {
                            app = app.Add(report);
                        }
                    }).ConfigureAwait(false);
                await cursors.SetAsync(appId, slice.Next, cancellationToken).ConfigureAwait(false);
                ReconcileLog.AppRun(logger, appId, app.ToString(), slice.Next is null ? "the first user" : "where this run stopped");
                total = total.Plus(app);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // The store could not list the app's users or keep its cursor: the other apps still run.
                ReconcileLog.AppFailed(logger, appId, ex);
            }
        }

        return total;
    }
}

internal static partial class ReconcileLog
{
    [LoggerMessage(EventId = 300, Level = LogLevel.Warning,
        Message = "Reconcile app={AppId} user={UserId} failed: {Kind} {Detail}; {Added} edges still added, none removed")]
    public static partial void UserFailed(ILogger logger, string appId, string userId, ReconcileErrorKind kind, string detail, int added);

    [LoggerMessage(EventId = 301, Level = LogLevel.Information, Message = "Reconcile app={AppId}: {Summary}; the next run starts at {Next}")]
    public static partial void AppRun(ILogger logger, string appId, string summary, string next);

    [LoggerMessage(EventId = 302, Level = LogLevel.Error, Message = "Reconcile app={AppId}: the run stopped, the store did not answer")]
    public static partial void AppFailed(ILogger logger, string appId, Exception exception);
}
