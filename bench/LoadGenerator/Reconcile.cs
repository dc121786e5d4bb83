using System.Diagnostics;
using System.Globalization;
using FunctionApp.Core;
using FunctionApp.Hosting;
using FunctionApp.Reconciliation;
using FunctionApp.Storage.Relationships;
using FunctionApp.Tests.Reconciliation;
using Microsoft.Extensions.DependencyInjection;

namespace LoadGenerator;

/// <summary>
/// <c>reconcile</c>: users reconciled per second by the product's reconciler (its Tencent reader on
/// IHttpClientFactory with the client-side limit, the real store on Azurite) against the fake platform API with
/// added latency and the platform's limit enforced. A first pass repairs every user (not timed); the timed pass finds
/// drift on a tenth of them. The fake counts every call's arrival: the mean rate and the busiest one-second window.
/// </summary>
internal static class Reconcile
{
    public static async Task<int> RunAsync(Options options, CancellationToken cancellationToken)
    {
        var storage = StorageClients.FromConnectionString(options.Required("storage"));
        var users = options.Int("users", 600);
        var limit = options.Int("limit", 200);
        var concurrency = options.Int("concurrency", 16);
        var latency = TimeSpan.FromMilliseconds(options.Int("latency-ms", 20));
        const string app = "1400000001";
        const string key = "bench-secret-key";

        await using var fake = await FakePlatformApi.StartAsync();
        fake.TencentKeys[app] = key;
        fake.AddedLatency = latency;
        fake.RateLimitPerSecond = limit;
        var userIds = Enumerable.Range(0, users).Select(i => $"user{i:D5}").ToList();
        foreach (var (userId, i) in userIds.Select((u, i) => (u, i)))
        {
            fake.SetUser(app, userId, [new FakeFriend($"friend{i}a"), new FakeFriend($"friend{i}b", Remark: "r")], [$"blocked{i}"]);
        }

        var reconcileOptions = new ReconciliationOptions { CallsPerSecond = limit, Concurrency = concurrency };
        reconcileOptions.TencentApps[app] = new TencentReconcileApp { SecretKey = key, Domain = fake.BaseUri.ToString() };
        var services = new ServiceCollection();
        services.AddLogging();
        PlatformReaders.AddHttpClients(services, reconcileOptions);
        await using var provider = services.BuildServiceProvider();
        var readers = new PlatformReaders(provider.GetRequiredService<IHttpClientFactory>(), reconcileOptions, TimeProvider.System);
        var store = new TableRelationshipStore(storage.GetTableServiceClient(),
            new TableRelationshipStoreOptions { TablePrefix = "r" + Guid.NewGuid().ToString("N")[..8] });
        await store.EnsureTablesAsync(cancellationToken);
        var reconciler = new UserReconciler(readers, store, store, TimeProvider.System);

        async Task<(ReconcileReport[] Reports, double Seconds)> PassAsync()
        {
            var reports = new ReconcileReport[users];
            var clock = Stopwatch.StartNew();
            await Parallel.ForEachAsync(Enumerable.Range(0, users), new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
                async (i, token) => reports[i] = await reconciler.ReconcileAsync(app, userIds[i], token));
            return (reports, clock.Elapsed.TotalSeconds);
        }

        var (repairs, _) = await PassAsync();
        if (repairs.Any(r => r.Outcome != UserReconciler.Repaired))
        {
            Console.Error.WriteLine($"reconcile: the first pass did not repair every user: {repairs.First(r => r.Outcome != UserReconciler.Repaired)}");
            return 1;
        }

        // Drift on every tenth user: a friend the store lacks and one it still has.
        for (var i = 0; i < users; i += 10)
        {
            fake.SetUser(app, userIds[i], [new FakeFriend($"friend{i}a"), new FakeFriend($"friend{i}c")], [$"blocked{i}"]);
        }

        await Task.Delay(TimeSpan.FromSeconds(1.1), cancellationToken); // the first pass's calls leave the limit's window
        fake.ClearCalls();
        var (reports, seconds) = await PassAsync();
        var failed = reports.Count(r => r.Outcome == UserReconciler.Failed);
        var repaired = reports.Count(r => r.Outcome == UserReconciler.Repaired);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"reconcile users={users} seconds={seconds:F2} users_per_s={users / seconds:F1} repaired={repaired} failed={failed} calls={fake.CallCount} call_rate={fake.MeanCallRate():F1} busiest_second={fake.BusiestSecond()} rate_limited={fake.RateLimitedCount} limit={limit} concurrency={concurrency} latency_ms={latency.TotalMilliseconds:F0}"));
        return failed == 0 && repaired == (users + 9) / 10 ? 0 : 1;
    }
}
