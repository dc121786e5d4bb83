using FunctionApp.Core;

namespace FunctionApp.Reconciliation;

/// <summary>
/// Reconciles one user: reads both platform lists (every page), then the store's present edges, and applies the
/// differences through the same applier callbacks use, so idempotency and order-safety hold for repairs too.
/// A user with no difference writes nothing. Every failure becomes the report's error; only cancellation throws.
/// </summary>
public sealed class UserReconciler(IPlatformReaders readers, IRelationshipQueries queries, IRelationshipBatchApplier applier, TimeProvider clock)
{
    public const string Unchanged = "unchanged";
    public const string Repaired = "repaired";
    public const string Failed = "failed";
    private const int StorePageSize = 1000;

    /// <exception cref="ArgumentException"><paramref name="appId"/> is not configured for reconciliation.</exception>
    public async Task<ReconcileReport> ReconcileAsync(string appId, string userId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(appId);
        ArgumentNullException.ThrowIfNull(userId);
        var reader = readers.For(appId) ?? throw new ArgumentException($"App '{appId}' is not configured for reconciliation.", nameof(appId));

        // Read the platform first: its start is the repair's time, and the store read after it is the fresher.
        var readStartedAt = clock.GetUtcNow();
        PlatformSnapshot snapshot;
        try
        {
            snapshot = await reader.ReadAsync(userId, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            snapshot = new PlatformSnapshot(PlatformList.Empty, PlatformList.Empty, 0,
                new ReconcileError(ex is OperationCanceledException or TimeoutException ? ReconcileErrorKind.Timeout : ReconcileErrorKind.PlatformError, ex.Message));
        }

        ReconciliationPlan plan;
        try
        {
            var friends = await ReadAllAsync(appId, userId, EdgeListKind.Friends, cancellationToken).ConfigureAwait(false);
            var blocklist = await ReadAllAsync(appId, userId, EdgeListKind.Blocklist, cancellationToken).ConfigureAwait(false);
            plan = ReconciliationDiff.Plan(reader.Platform, appId, userId, readStartedAt, snapshot, friends, blocklist);
            if (plan.Batch is not null)
            {
                await applier.ApplyAsync(plan.Batch, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new ReconcileReport(appId, userId, Failed, 0, 0, 0, snapshot.PagesRead, readStartedAt,
                new ReconcileError(ReconcileErrorKind.StoreError, ex.Message));
        }

        var outcome = snapshot.Error is not null ? Failed : plan.Batch is null ? Unchanged : Repaired;
        return new ReconcileReport(appId, userId, outcome, plan.Added, plan.Removed, plan.Updated, snapshot.PagesRead, readStartedAt, snapshot.Error);
    }

    private async Task<List<EdgeView>> ReadAllAsync(string appId, string userId, EdgeListKind list, CancellationToken cancellationToken)
    {
        var edges = new List<EdgeView>();
        string? continuation = null;
        do
        {
            var page = await queries.ListEdgesAsync(appId, userId, list, StorePageSize, continuation, cancellationToken).ConfigureAwait(false);
            edges.AddRange(page.Items);
            continuation = page.Continuation;
        }
        while (continuation is not null);

        return edges;
    }
}
