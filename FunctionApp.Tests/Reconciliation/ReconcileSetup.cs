using FunctionApp.Reconciliation;
using Microsoft.Extensions.DependencyInjection;

namespace FunctionApp.Tests.Reconciliation;

/// <summary>The product's platform readers, built as the app builds them (IHttpClientFactory, resilience, limits), against a fake API.</summary>
public sealed class ReconcileSetup : IAsyncDisposable
{
    public const string TencentApp = "1400000001";
    public const string TencentKey = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";

    private ReconcileSetup(FakePlatformApi fake, ServiceProvider services, ReconciliationOptions options, TimeProvider clock)
    {
        Fake = fake;
        Services = services;
        Options = options;
        Readers = new PlatformReaders(services.GetRequiredService<IHttpClientFactory>(), options, clock);
    }

    public FakePlatformApi Fake { get; }
    public ServiceProvider Services { get; }
    public ReconciliationOptions Options { get; }
    public PlatformReaders Readers { get; }

    /// <param name="configure">Changes the options before the clients are built (keys, limits, page size).</param>
    public static async Task<ReconcileSetup> StartAsync(Action<ReconciliationOptions>? configure = null, TimeProvider? clock = null, FakePlatformApi? fake = null)
    {
        fake ??= await FakePlatformApi.StartAsync();
        fake.TencentKeys[TencentApp] = TencentKey;
        var options = new ReconciliationOptions { PageSize = 10, CallTimeoutSeconds = 10 };
        options.TencentApps[TencentApp] = new TencentReconcileApp { SecretKey = TencentKey, Domain = fake.BaseUri.ToString() };
        options.OpenIm = new OpenImReconcileApp { ApiUrl = fake.BaseUri.ToString(), Secret = fake.OpenImSecret, AdminUserId = fake.OpenImAdmin };
        options.OpenImAppId = FakePlatformApi.OpenImAppId;
        configure?.Invoke(options);
        var services = new ServiceCollection();
        services.AddLogging();
        PlatformReaders.AddHttpClients(services, options);
        return new ReconcileSetup(fake, services.BuildServiceProvider(), options, clock ?? TimeProvider.System);
    }

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        await Fake.DisposeAsync();
    }
}
