using Azure;
using FunctionApp.Storage.Http;
using FunctionApp.Storage.Tables;
using FunctionApp.Tests.Infrastructure;

namespace FunctionApp.Tests.Storage;

[Collection(AzuriteCollection.Name)]
public class TableClientTests(AzuriteFixture azurite)
{
    private async Task<TableClient> NewTableAsync(StorageClientOptions? options = null)
    {
        var table = new TableServiceClient(azurite.Account, options).GetTableClient("t" + Guid.NewGuid().ToString("N")[..16]);
        Assert.True(await table.CreateIfNotExistsAsync());
        return table;
    }

    [Fact]
    public async Task Creating_an_existing_table_is_fine()
    {
        var table = await NewTableAsync();
        Assert.False(await table.CreateIfNotExistsAsync());
    }

    [Fact]
    public async Task Every_property_type_round_trips()
    {
        var table = await NewTableAsync();
        var time = new DateTimeOffset(2024, 2, 29, 23, 59, 58, TimeSpan.Zero).AddTicks(1234567);
        var guid = Guid.NewGuid();
        var entity = new TableEntity("p", "r")
        {
            ["Text"] = "héllo 'quoted' 中文",
            ["Big"] = long.MaxValue - 1,
            ["Small"] = -42,
            ["Flag"] = true,
            ["Ratio"] = 0.125,
            ["Whole"] = 3.0,
            ["When"] = time,
            ["Id"] = guid,
            ["Bytes"] = new byte[] { 0, 1, 254, 255 },
        };
        var etag = await table.AddEntityAsync(entity);

        var read = await table.GetEntityAsync("p", "r");
        Assert.NotNull(read);
        Assert.Equal(etag, read.ETag);
        Assert.NotNull(read.Timestamp);
        Assert.Equal("héllo 'quoted' 中文", read.GetString("Text"));
        Assert.Equal(long.MaxValue - 1, read.GetInt64("Big"));
        Assert.Equal(-42, read.GetInt32("Small"));
        Assert.True(read.GetBoolean("Flag"));
        Assert.Equal(0.125, read.GetDouble("Ratio"));
        Assert.Equal(3.0, read["Whole"]);
        Assert.Equal(time, read.GetDateTimeOffset("When"));
        Assert.Equal(guid, read.GetGuid("Id"));
        Assert.Equal(new byte[] { 0, 1, 254, 255 }, read.GetBinary("Bytes"));
    }

    [Fact]
    public async Task Missing_entity_reads_as_null_and_inserting_twice_is_a_conflict()
    {
        var table = await NewTableAsync();
        Assert.Null(await table.GetEntityAsync("p", "nothing"));
        await table.AddEntityAsync(new TableEntity("p", "r"));
        var error = await Assert.ThrowsAsync<RequestFailedException>(() => table.AddEntityAsync(new TableEntity("p", "r")));
        Assert.Equal(409, error.Status);
        Assert.Equal("EntityAlreadyExists", error.ErrorCode);
    }

    [Fact]
    public async Task Upsert_replaces_or_merges()
    {
        var table = await NewTableAsync();
        await table.UpsertEntityAsync(new TableEntity("p", "r") { ["A"] = "1", ["B"] = "1" });
        await table.UpsertEntityAsync(new TableEntity("p", "r") { ["B"] = "2" }, TableUpdateMode.Merge);
        var merged = await table.GetEntityAsync("p", "r");
        Assert.Equal(("1", "2"), (merged!.GetString("A"), merged.GetString("B")));

        await table.UpsertEntityAsync(new TableEntity("p", "r") { ["C"] = "3" });
        var replaced = await table.GetEntityAsync("p", "r");
        Assert.Equal((null, null, "3"), (replaced!.GetString("A"), replaced.GetString("B"), replaced.GetString("C")));
    }

    [Fact]
    public async Task Stale_etags_are_refused_on_update_and_delete()
    {
        var table = await NewTableAsync();
        var first = await table.AddEntityAsync(new TableEntity("p", "r") { ["V"] = 1 });
        var second = await table.UpdateEntityAsync(new TableEntity("p", "r") { ["V"] = 2 }, first);
        Assert.NotEqual(first, second);

        var staleUpdate = await Assert.ThrowsAsync<RequestFailedException>(
            () => table.UpdateEntityAsync(new TableEntity("p", "r") { ["V"] = 3 }, first));
        Assert.Equal(412, staleUpdate.Status);
        Assert.Equal("UpdateConditionNotSatisfied", staleUpdate.ErrorCode);
        var staleDelete = await Assert.ThrowsAsync<RequestFailedException>(() => table.DeleteEntityAsync("p", "r", first));
        Assert.Equal(412, staleDelete.Status);
        Assert.Equal(2, (await table.GetEntityAsync("p", "r"))!.GetInt32("V"));

        var merged = await table.UpdateEntityAsync(new TableEntity("p", "r") { ["W"] = 1 }, second, TableUpdateMode.Merge);
        var read = await table.GetEntityAsync("p", "r");
        Assert.Equal((2, 1), (read!.GetInt32("V"), read.GetInt32("W")));
        Assert.True(await table.DeleteEntityAsync("p", "r", merged));
        Assert.False(await table.DeleteEntityAsync("p", "r"));
        var missing = await Assert.ThrowsAsync<RequestFailedException>(
            () => table.UpdateEntityAsync(new TableEntity("p", "r"), ETag.All));
        Assert.Equal(404, missing.Status);
    }

    [Theory]
    [InlineData("it's")]
    [InlineData("''")]
    [InlineData("a b+c&d=e%20f")]
    [InlineData("(x),[y];{z}:@!$*")]
    [InlineData("中文 ü 🙂")]
    [InlineData("~|^`\"<>")]
    public async Task Keys_with_quotes_and_url_characters_work_everywhere(string key)
    {
        var table = await NewTableAsync();
        var etag = await table.AddEntityAsync(new TableEntity(key, key) { ["V"] = 1 });
        var read = await table.GetEntityAsync(key, key);
        Assert.Equal((key, key), (read!.PartitionKey, read.RowKey));
        var page = await table.QueryAsync(ODataFilter.Create($"PartitionKey eq {key} and RowKey eq {key}"));
        Assert.Equal(key, Assert.Single(page.Entities).RowKey);
        etag = await table.UpdateEntityAsync(new TableEntity(key, key) { ["V"] = 2 }, etag);
        await table.SubmitTransactionAsync([new TableTransactionAction(TableTransactionActionType.UpdateMerge, new TableEntity(key, key) { ["W"] = 1 }, etag)]);
        Assert.True(await table.DeleteEntityAsync(key, key));
    }

    [Fact]
    public async Task Query_filters_selects_and_pages_with_continuation()
    {
        var table = await NewTableAsync();
        for (var chunk = 0; chunk < 3; chunk++)
        {
            await table.SubmitTransactionAsync(Enumerable.Range(chunk * 100, 100)
                .Select(i => new TableTransactionAction(TableTransactionActionType.Add,
                    new TableEntity("p", $"{i:D4}") { ["Even"] = i % 2 == 0, ["N"] = (long)i, ["Other"] = "x" }))
                .ToList());
        }

        var rows = new List<TableEntity>();
        TableContinuation? continuation = null;
        var pages = 0;
        do
        {
            var page = await table.QueryAsync(ODataFilter.Create($"PartitionKey eq {"p"} and Even eq {true} and N ge {10L}"),
                ["N"], 40, continuation);
            rows.AddRange(page.Entities);
            continuation = page.Continuation;
            pages++;
        }
        while (continuation is not null);

        Assert.Equal(Enumerable.Range(5, 145).Select(i => i * 2L), rows.Select(r => r.GetInt64("N")!.Value));
        Assert.True(pages >= 4, $"{pages} pages");
        Assert.All(rows, r => Assert.Null(r.GetString("Other")));
    }

    [Fact]
    public async Task Queries_follow_continuations_past_the_service_page_size()
    {
        var table = await NewTableAsync();
        await Task.WhenAll(Enumerable.Range(0, 11).Select(chunk => table.SubmitTransactionAsync(Enumerable.Range(chunk * 100, 100)
            .Select(i => new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity("p", $"{i:D5}")))
            .ToList())));

        var first = await table.QueryAsync(ODataFilter.Create($"PartitionKey eq {"p"}"));
        Assert.Equal(1000, first.Entities.Count);
        Assert.NotNull(first.Continuation);
        var all = await table.QueryAllAsync(null).ToListAsync();
        Assert.Equal(Enumerable.Range(0, 1100).Select(i => $"{i:D5}"), all.Select(e => e.RowKey));
    }

    [Fact]
    public async Task Transactions_apply_every_kind_of_operation_atomically()
    {
        var table = await NewTableAsync();
        var replaceEtag = await table.AddEntityAsync(new TableEntity("p", "replace") { ["A"] = "old", ["Keep"] = "no" });
        var mergeEtag = await table.AddEntityAsync(new TableEntity("p", "merge") { ["A"] = "old", ["Keep"] = "yes" });
        var deleteEtag = await table.AddEntityAsync(new TableEntity("p", "delete"));
        await table.AddEntityAsync(new TableEntity("p", "upsert") { ["Keep"] = "yes" });

        var etags = await table.SubmitTransactionAsync(
        [
            new(TableTransactionActionType.Add, new TableEntity("p", "add") { ["A"] = "new" }),
            new(TableTransactionActionType.UpdateReplace, new TableEntity("p", "replace") { ["A"] = "new" }, replaceEtag),
            new(TableTransactionActionType.UpdateMerge, new TableEntity("p", "merge") { ["A"] = "new" }, mergeEtag),
            new(TableTransactionActionType.UpsertMerge, new TableEntity("p", "upsert") { ["A"] = "new" }),
            new(TableTransactionActionType.UpsertReplace, new TableEntity("p", "fresh") { ["A"] = "new" }),
            new(TableTransactionActionType.Delete, new TableEntity("p", "delete"), deleteEtag),
        ]);

        Assert.Equal(6, etags.Count);
        var rows = (await table.QueryAllAsync(null).ToListAsync()).ToDictionary(e => e.RowKey);
        Assert.Equal(["add", "fresh", "merge", "replace", "upsert"], rows.Keys.Order(StringComparer.Ordinal));
        Assert.All(rows.Values, e => Assert.Equal("new", e.GetString("A")));
        Assert.Null(rows["replace"].GetString("Keep"));
        Assert.Equal("yes", rows["merge"].GetString("Keep"));
        Assert.Equal("yes", rows["upsert"].GetString("Keep"));
        Assert.Equal(etags[0], rows["add"].ETag);
    }

    [Fact]
    public async Task A_failing_transaction_applies_nothing_and_names_the_failed_operation()
    {
        var table = await NewTableAsync();
        var etag = await table.AddEntityAsync(new TableEntity("p", "existing") { ["V"] = 1 });
        await table.UpdateEntityAsync(new TableEntity("p", "existing") { ["V"] = 2 }, etag);

        var conflict = await Assert.ThrowsAsync<TableTransactionFailedException>(() => table.SubmitTransactionAsync(
        [
            new(TableTransactionActionType.Add, new TableEntity("p", "a")),
            new(TableTransactionActionType.Add, new TableEntity("p", "b")),
            new(TableTransactionActionType.Add, new TableEntity("p", "existing")),
            new(TableTransactionActionType.Add, new TableEntity("p", "c")),
        ]));
        Assert.Equal((409, "EntityAlreadyExists", 2), (conflict.Status, conflict.ErrorCode, conflict.FailedActionIndex));

        var stale = await Assert.ThrowsAsync<TableTransactionFailedException>(() => table.SubmitTransactionAsync(
        [
            new(TableTransactionActionType.Add, new TableEntity("p", "a")),
            new(TableTransactionActionType.UpdateReplace, new TableEntity("p", "existing") { ["V"] = 9 }, etag),
        ]));
        Assert.Equal((412, 1), (stale.Status, stale.FailedActionIndex));

        var rows = await table.QueryAllAsync(null).ToListAsync();
        Assert.Equal(2, Assert.Single(rows).GetInt32("V"));
    }

    [Fact]
    public async Task A_transaction_of_one_hundred_operations_succeeds_and_larger_or_mixed_ones_are_refused_before_sending()
    {
        var table = await NewTableAsync();
        var hundred = Enumerable.Range(0, 100)
            .Select(i => new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("p", $"{i:D3}") { ["Text"] = new string('x', 1000) }))
            .ToList();
        Assert.Equal(100, (await table.SubmitTransactionAsync(hundred)).Count);
        Assert.Equal(100, (await table.QueryAllAsync(null).ToListAsync()).Count);

        await Assert.ThrowsAsync<ArgumentException>(() => table.SubmitTransactionAsync(
            [.. hundred, new(TableTransactionActionType.Add, new TableEntity("p", "one-more"))]));
        await Assert.ThrowsAsync<ArgumentException>(() => table.SubmitTransactionAsync(
            [new(TableTransactionActionType.Add, new TableEntity("p", "x")), new(TableTransactionActionType.Add, new TableEntity("q", "x"))]));
    }

    [Fact]
    public async Task SharedKeyLite_signing_is_accepted()
    {
        var table = await NewTableAsync(new StorageClientOptions { SharedKeyScheme = SharedKeyScheme.SharedKeyLite });
        await table.AddEntityAsync(new TableEntity("p", "it's"));
        Assert.NotNull(await table.GetEntityAsync("p", "it's"));
    }

    [Fact]
    public async Task A_wrong_key_is_an_authorization_failure()
    {
        var wrongKey = new StorageAccount(null, null, azurite.TableEndpoint,
            new StorageSharedKey(StorageConnectionString.DevelopmentAccountName, Convert.ToBase64String(new byte[64])));
        var table = new TableServiceClient(wrongKey).GetTableClient("anything");
        var error = await Assert.ThrowsAsync<RequestFailedException>(() => table.GetEntityAsync("p", "r"));
        Assert.Equal(403, error.Status);
        Assert.Equal("AuthorizationFailure", error.ErrorCode);
    }
}
