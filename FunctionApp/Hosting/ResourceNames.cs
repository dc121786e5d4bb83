using FunctionApp.Storage.Relationships;

namespace FunctionApp.Hosting;

/// <summary>
/// Names of the Azure resources the app uses, as <c>infra/</c> creates them. A deployment test keeps the Bicep,
/// <c>host.json</c>, the function folders and <c>local.settings.sample.json</c> in step with these values.
/// </summary>
public static class ResourceNames
{
    /// <summary>Default value of <see cref="AppSettingNames.RelationshipEventsQueue"/>: the queue between ingestion and apply.</summary>
    public const string DefaultRelationshipEventsQueue = "relationship-events";

    /// <summary>Current state of each directed edge, partitioned by its owner.</summary>
    public const string EdgesTable = TableRelationshipStore.EdgesTableName;

    /// <summary>Mirror of <see cref="EdgesTable"/> partitioned by the peer (who has me as a friend, who blocked me).</summary>
    public const string EdgesByPeerTable = TableRelationshipStore.EdgesByPeerTableName;

    /// <summary>Every event applied, per user, newest first.</summary>
    public const string HistoryTable = TableRelationshipStore.HistoryTableName;

    /// <summary>Where the scheduled reconciliation stands in each app's users.</summary>
    public const string ReconciliationCursorsTable = Storage.Reconciliation.TableReconcileCursors.TableName;

    /// <summary>Every table the app reads or writes.</summary>
    public static IReadOnlyList<string> Tables { get; } = [EdgesTable, EdgesByPeerTable, HistoryTable, ReconciliationCursorsTable];
}
