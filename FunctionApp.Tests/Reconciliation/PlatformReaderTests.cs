using FunctionApp.Core;
using FunctionApp.Reconciliation.Tencent;
using Microsoft.Extensions.Time.Testing;

namespace FunctionApp.Tests.Reconciliation;

public sealed class PlatformReaderTests
{
    private static IEnumerable<FakeFriend> Friends(int count) =>
        Enumerable.Range(0, count).Select(i => new FakeFriend($"friend{i:D3}", Remark: i % 2 == 0 ? $"remark {i}" : "", Groups: i == 0 ? ["Group1", "Group,2"] : null, AddTime: 1_700_000_000 + i));

    private static IEnumerable<string> Blocked(int count) => Enumerable.Range(0, count).Select(i => $"blocked{i:D3}");

    [Fact]
    public async Task Tencent_lists_are_read_page_by_page_to_the_end_with_their_facts()
    {
        await using var setup = await ReconcileSetup.StartAsync();
        setup.Fake.SetUser(ReconcileSetup.TencentApp, "alice", Friends(250), Blocked(25));

        var snapshot = await setup.Readers.For(ReconcileSetup.TencentApp)!.ReadAsync("alice", default);

        Assert.True(snapshot.IsComplete, snapshot.Error?.Detail);
        Assert.Equal(250, snapshot.Friends.Edges.Count);
        Assert.Equal(25, snapshot.Blocklist.Edges.Count);
        Assert.Equal(3 + 3, snapshot.PagesRead); // 100 friends per page; 10 blocked per page
        Assert.Equal(Friends(250).Select(f => f.Peer), snapshot.Friends.Edges.Select(e => e.Peer));
        var first = snapshot.Friends.Edges[0].Attributes;
        Assert.Equal("remark 0", first["remark"]);
        Assert.Equal("AddSource_Type_Test", first["addSource"]);
        Assert.Equal("1700000000", first["addTime"]);
        Assert.Equal("[\"Group1\",\"Group,2\"]", first["group"]);
        Assert.False(snapshot.Friends.Edges[1].Attributes.ContainsKey("remark"));
        Assert.Equal("1430000001", snapshot.Blocklist.Edges[0].Attributes["addBlackTime"]);
        Assert.All(setup.Fake.Calls, call => Assert.Equal("alice", call.UserId));
    }

    [Fact]
    public async Task The_user_sig_is_made_once_and_reused_until_shortly_before_it_expires()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var setup = await ReconcileSetup.StartAsync(o => o.TencentApps[ReconcileSetup.TencentApp].UserSigLifetimeSeconds = 3600, clock);
        setup.Fake.SetUser(ReconcileSetup.TencentApp, "alice", Friends(3), Blocked(3));
        var reader = setup.Readers.For(ReconcileSetup.TencentApp)!;

        for (var i = 0; i < 3; i++)
        {
            Assert.True((await reader.ReadAsync("alice", default)).IsComplete);
        }

        Assert.Equal(1, setup.Fake.DistinctUserSigs);
        clock.Advance(TimeSpan.FromMinutes(54)); // 6 minutes left: still kept (renewed 5 minutes before expiry)
        Assert.True((await reader.ReadAsync("alice", default)).IsComplete);
        Assert.Equal(1, setup.Fake.DistinctUserSigs);
        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.True((await reader.ReadAsync("alice", default)).IsComplete);
        Assert.Equal(2, setup.Fake.DistinctUserSigs);
    }

    [Fact]
    public async Task A_sig_made_with_the_wrong_key_is_refused_and_reported_as_unauthorized()
    {
        await using var setup = await ReconcileSetup.StartAsync(o => o.TencentApps[ReconcileSetup.TencentApp].SecretKey = "not-the-key");
        setup.Fake.SetUser(ReconcileSetup.TencentApp, "alice", Friends(3), Blocked(3));

        var snapshot = await setup.Readers.For(ReconcileSetup.TencentApp)!.ReadAsync("alice", default);

        Assert.False(snapshot.IsComplete);
        Assert.Equal(ReconcileErrorKind.Unauthorized, snapshot.Error!.Kind);
        Assert.Empty(snapshot.Friends.Edges);
    }

    [Fact]
    public void The_sig_is_in_tencents_format()
    {
        var sig = TencentUserSig.Generate("1400000000", "xiaojun", ReconcileSetup.TencentKey, DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), 86_400);

        Assert.DoesNotContain(sig, c => c is '+' or '/' or '=');
        Assert.Equal(
            TencentUserSig.Sign(ReconcileSetup.TencentKey, "xiaojun", 1400000000, 1_700_000_000, 86_400),
            Convert.ToBase64String(System.Security.Cryptography.HMACSHA256.HashData(
                System.Text.Encoding.UTF8.GetBytes(ReconcileSetup.TencentKey),
                System.Text.Encoding.UTF8.GetBytes("TLS.identifier:xiaojun\nTLS.sdkappid:1400000000\nTLS.time:1700000000\nTLS.expire:86400\n"))));
    }

    [Fact]
    public async Task Tencent_rate_limit_and_server_errors_are_retried_with_backoff()
    {
        await using var setup = await ReconcileSetup.StartAsync();
        setup.Fake.SetUser(ReconcileSetup.TencentApp, "alice", Friends(150), Blocked(5));
        var failures = 0;
        setup.Fake.ErrorFor = call => call.Api == "friend_get" && call.Cursor == 100 && Interlocked.Increment(ref failures) <= 3
            ? (failures == 2 ? 30006 : 60007)
            : null;

        var snapshot = await setup.Readers.For(ReconcileSetup.TencentApp)!.ReadAsync("alice", default);

        Assert.True(snapshot.IsComplete, snapshot.Error?.Detail);
        Assert.Equal(150, snapshot.Friends.Edges.Count);
        Assert.Equal(4, setup.Fake.Calls.Count(c => c.Api == "friend_get" && c.Cursor == 100));
    }

    [Fact]
    public async Task A_page_that_keeps_failing_leaves_the_list_incomplete_with_what_was_read()
    {
        await using var setup = await ReconcileSetup.StartAsync();
        setup.Fake.SetUser(ReconcileSetup.TencentApp, "alice", Friends(150), Blocked(5));
        setup.Fake.ErrorFor = call => call.Api == "friend_get" && call.Cursor == 100 ? 60007 : null;

        var snapshot = await setup.Readers.For(ReconcileSetup.TencentApp)!.ReadAsync("alice", default);

        Assert.False(snapshot.Friends.Complete);
        Assert.True(snapshot.Blocklist.Complete);
        Assert.Equal(100, snapshot.Friends.Edges.Count);
        Assert.Equal(ReconcileErrorKind.RateLimited, snapshot.Error!.Kind);
        Assert.Equal(6, setup.Fake.Calls.Count(c => c.Api == "friend_get" && c.Cursor == 100)); // the call and 5 retries
    }

    [Fact]
    public async Task An_unknown_user_is_reported_as_such_on_both_platforms()
    {
        await using var setup = await ReconcileSetup.StartAsync();

        var tencent = await setup.Readers.For(ReconcileSetup.TencentApp)!.ReadAsync("nobody", default);
        var openIm = await setup.Readers.For(FakePlatformApi.OpenImAppId)!.ReadAsync("nobody", default);

        Assert.Equal(ReconcileErrorKind.UnknownUser, tencent.Error!.Kind);
        Assert.Equal(ReconcileErrorKind.UnknownUser, openIm.Error!.Kind);
    }

    [Fact]
    public async Task OpenIm_lists_are_read_page_by_page_with_one_cached_admin_token()
    {
        await using var setup = await ReconcileSetup.StartAsync();
        setup.Fake.SetUser(FakePlatformApi.OpenImAppId, "alice", Friends(25), Blocked(20));
        var reader = setup.Readers.For(FakePlatformApi.OpenImAppId)!;

        var snapshot = await reader.ReadAsync("alice", default);
        var again = await reader.ReadAsync("alice", default);

        Assert.True(snapshot.IsComplete, snapshot.Error?.Detail);
        Assert.True(again.IsComplete);
        Assert.Equal(Friends(25).Select(f => f.Peer), snapshot.Friends.Edges.Select(e => e.Peer));
        Assert.Equal(20, snapshot.Blocklist.Edges.Count);
        Assert.Equal(3 + 2, snapshot.PagesRead); // 10 per page; a full last page of blocks ends on the total
        Assert.Equal(1, setup.Fake.TokensIssued);
        var first = snapshot.Friends.Edges[0].Attributes;
        Assert.Equal(("remark 0", "1", "1700000000000"), (first["remark"], first["addSource"], first["createTime"]));
        Assert.Equal("1430000001000", snapshot.Blocklist.Edges[0].Attributes["createTime"]);
    }

    [Fact]
    public async Task A_revoked_openim_token_is_replaced_once()
    {
        await using var setup = await ReconcileSetup.StartAsync();
        setup.Fake.SetUser(FakePlatformApi.OpenImAppId, "alice", Friends(5), Blocked(5));
        var reader = setup.Readers.For(FakePlatformApi.OpenImAppId)!;
        Assert.True((await reader.ReadAsync("alice", default)).IsComplete);

        setup.Fake.RevokeOpenImTokens();
        var snapshot = await reader.ReadAsync("alice", default);

        Assert.True(snapshot.IsComplete, snapshot.Error?.Detail);
        Assert.InRange(setup.Fake.TokensIssued, 2, 3); // both lists may notice the revoked token at once
    }

    [Fact]
    public async Task A_wrong_openim_secret_is_reported_as_unauthorized()
    {
        await using var setup = await ReconcileSetup.StartAsync(o => o.OpenIm.Secret = "wrong");
        setup.Fake.SetUser(FakePlatformApi.OpenImAppId, "alice", Friends(5), Blocked(5));

        var snapshot = await setup.Readers.For(FakePlatformApi.OpenImAppId)!.ReadAsync("alice", default);

        Assert.Equal(ReconcileErrorKind.Unauthorized, snapshot.Error!.Kind);
        Assert.False(snapshot.Friends.Complete);
    }

    [Fact]
    public async Task OpenIm_http_429_is_retried()
    {
        await using var setup = await ReconcileSetup.StartAsync();
        setup.Fake.SetUser(FakePlatformApi.OpenImAppId, "alice", Friends(5), Blocked(5));
        setup.Fake.RateLimitPerSecond = 2;

        var snapshot = await setup.Readers.For(FakePlatformApi.OpenImAppId)!.ReadAsync("alice", default);

        Assert.True(snapshot.IsComplete, snapshot.Error?.Detail);
        Assert.True(setup.Fake.RateLimitedCount > 0);
    }

    [Fact]
    public async Task The_client_side_limit_spaces_calls_below_the_configured_rate()
    {
        // A machine under load can only delay calls, never speed them up, so the bounds below hold on any machine;
        // the rate against a real limit is measured by the benchmark (reconcile_call_rate).
        await using var setup = await ReconcileSetup.StartAsync(o => o.CallsPerSecond = 40);
        for (var i = 0; i < 30; i++)
        {
            setup.Fake.SetUser(ReconcileSetup.TencentApp, $"user{i}", Friends(1), Blocked(1));
        }

        var reader = setup.Readers.For(ReconcileSetup.TencentApp)!;
        Assert.True((await reader.ReadAsync("user0", default)).IsComplete); // connection and code warm: the first call is no outlier
        await Task.Delay(100);
        setup.Fake.ClearCalls();
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var snapshots = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => reader.ReadAsync($"user{i}", default)));

        Assert.All(snapshots, s => Assert.True(s.IsComplete, s.Error?.Detail));
        Assert.Equal(60, setup.Fake.CallCount);
        // Unlimited, these 60 calls take well under 0.3 s here; at 40/s they take about 1.5 s.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.2), $"60 calls at 40/s took only {clock.Elapsed}");
        Assert.InRange(setup.Fake.MeanCallRate(), 1, 42);
    }
}
