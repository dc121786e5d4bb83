using System.Globalization;
using Azure.Data.Tables;
using FunctionApp.Hosting;
using FunctionApp.Storage.Relationships;

namespace LoadGenerator;

/// <summary>
/// Reads the tables and proves that every acknowledged callback (the owners listed in the <c>--acks</c> files, each
/// with <c>--pairs</c> peers) is stored exactly once: its edges present in both edge tables, and one history row on
/// each side per pair. Any history row beyond one per (user, other user, side, kind, action) is a duplicate.
/// </summary>
internal static class StoredOnce
{
    public static async Task<int> RunAsync(Options options, CancellationToken cancellationToken)
    {
        var tables = StorageClients.FromConnectionString(options.Required("storage")).GetTableServiceClient();
        var appId = options.Get("app", "1400000001");
        var pairs = options.Int("pairs", 3);
        var owners = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in options.All("acks"))
        {
            owners.UnionWith((await File.ReadAllLinesAsync(file, cancellationToken)).Where(line => line.Length > 0));
        }

        var appPartitions = TableClient.CreateQueryFilter($"PartitionKey ge {RelationshipKeys.Escape(appId) + RelationshipKeys.Separator} and PartitionKey lt {RelationshipKeys.Escape(appId) + '}'}");
        var edges = new HashSet<(string, string)>();
        await foreach (var row in tables.GetTableClient("RelationshipEdges").QueryAsync<TableEntity>(
            appPartitions, select: ["Owner", "Peer", "Kind", "State"], cancellationToken: cancellationToken))
        {
            if (row.GetString("State") == "present" && row.GetString("Kind") == "friend")
            {
                edges.Add((row.GetString("Owner")!, row.GetString("Peer")!));
            }
        }

        var mirrors = new HashSet<(string, string)>();
        await foreach (var row in tables.GetTableClient("RelationshipEdgesByPeer").QueryAsync<TableEntity>(
            appPartitions, select: ["Owner", "Peer", "Kind", "State"], cancellationToken: cancellationToken))
        {
            if (row.GetString("State") == "present" && row.GetString("Kind") == "friend")
            {
                mirrors.Add((row.GetString("Owner")!, row.GetString("Peer")!));
            }
        }

        var history = new Dictionary<(string User, string Other, string Side, string Kind, string Action), int>();
        long historyRows = 0;
        await foreach (var row in tables.GetTableClient("RelationshipHistory").QueryAsync<TableEntity>(
            appPartitions + " and " + TableClient.CreateQueryFilter($"RowKey lt {RelationshipKeys.HistoryRangeEnd}"),
            select: ["User", "OtherUser", "Side", "Kind", "Action"], cancellationToken: cancellationToken))
        {
            historyRows++;
            var key = (row.GetString("User")!, row.GetString("OtherUser")!, row.GetString("Side")!, row.GetString("Kind")!, row.GetString("Action")!);
            history[key] = history.GetValueOrDefault(key) + 1;
        }

        long missing = 0;
        var examples = new List<string>();
        foreach (var owner in owners)
        {
            for (var i = 1; i <= pairs; i++)
            {
                var peer = TencentCallbacks.PeerId(owner, i);
                var complete = edges.Contains((owner, peer)) && mirrors.Contains((owner, peer))
                    && history.ContainsKey((owner, peer, "owner", "friend", "added")) && history.ContainsKey((peer, owner, "peer", "friend", "added"));
                if (!complete)
                {
                    missing++;
                    if (examples.Count < 5)
                    {
                        examples.Add($"{owner} -> {peer}");
                    }
                }
            }
        }

        var duplicates = history.Where(h => h.Value > 1).ToList();
        foreach (var example in examples)
        {
            Console.Error.WriteLine("verify: acknowledged but not stored: " + example);
        }

        foreach (var duplicate in duplicates.Take(5))
        {
            Console.Error.WriteLine($"verify: {duplicate.Value} history rows for {duplicate.Key}");
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"verify: acknowledged_callbacks={owners.Count} acknowledged_edges={owners.Count * (long)pairs} missing={missing} "
            + $"duplicate_history={duplicates.Count} edges_stored={edges.Count} history_rows={historyRows}"));
        return missing == 0 && duplicates.Count == 0 && owners.Count > 0 ? 0 : 1;
    }

    public static async Task<long> CountRowsAsync(TableClient table, CancellationToken cancellationToken)
    {
        long count = 0;
        try
        {
            await foreach (var row in table.QueryAsync<TableEntity>(select: ["PartitionKey"], cancellationToken: cancellationToken))
            {
                count++;
            }
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 404)
        {
            return 0;
        }

        return count;
    }
}
