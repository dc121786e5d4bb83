using System.Globalization;
using Cronos;
using FunctionApp.Core;
using FunctionApp.Protocols.OpenIm;
using FunctionApp.Reconciliation;
using FunctionApp.Storage.Reconciliation;
using FunctionApp.Storage.Relationships;

namespace FunctionApp.Hosting;

/// <summary>Registrations and settings of reconciliation (README "Reconciliation").</summary>
public static class ReconciliationHosting
{
    public const string DefaultSchedule = "0 0 * * * *";

    /// <summary>
    /// The platform readers of the configured apps, the user reconciler (on the store's applier and queries), the
    /// walk over known users and the schedule's cursors (tables of <c>RelationshipStorage</c>), the scheduled run, and
    /// standalone, when <see cref="AppSettingNames.ReconciliationStandaloneEnabled"/> is true, its background service.
    /// With no app configured everything is still registered and the API answers that the app is not reconciled.
    /// </summary>
    /// <exception cref="InvalidOperationException">A reconciliation setting is malformed (the message names it).</exception>
    public static IServiceCollection AddReconciliation(this IServiceCollection services, IConfiguration configuration, HostingMode mode)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = ReadOptions(configuration);
        var schedule = ReadSchedule(configuration);
        services.AddSingleton(options);
        PlatformReaders.AddHttpClients(services, options);
        services.AddSingleton<IPlatformReaders>(provider =>
            new PlatformReaders(provider.GetRequiredService<IHttpClientFactory>(), options, provider.GetRequiredService<TimeProvider>()));
        services.AddSingleton(provider => new UserReconciler(
            provider.GetRequiredService<IPlatformReaders>(),
            provider.GetRequiredService<IRelationshipQueries>(),
            provider.GetRequiredService<IRelationshipBatchApplier>(),
            provider.GetRequiredService<TimeProvider>()));
        var storage = ServiceCollectionExtensions.StorageClientsOf(services, configuration);
        var tables = new Lazy<Azure.Data.Tables.TableServiceClient>(() => storage.GetTableServiceClient());
        services.AddSingleton<IKnownUsers>(_ => new TableKnownUsers(
            tables.Value.GetTableClient(TableRelationshipStore.EdgesTableName),
            tables.Value.GetTableClient(TableRelationshipStore.EdgesByPeerTableName)));
        services.AddSingleton<IReconcileCursors>(_ => new TableReconcileCursors(tables.Value.GetTableClient(TableReconcileCursors.TableName)));
        services.AddSingleton<ScheduledReconciliation>();
        if (mode == HostingMode.Standalone && SettingValues.Bool(configuration, AppSettingNames.ReconciliationStandaloneEnabled, fallback: false))
        {
            services.AddHostedService(provider => new ReconciliationScheduleService(
                schedule, provider.GetRequiredService<ScheduledReconciliation>(), provider.GetRequiredService<TimeProvider>(),
                provider.GetRequiredService<ILogger<ReconciliationScheduleService>>()));
        }

        return services;
    }

    public static ReconciliationOptions ReadOptions(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var defaults = new ReconciliationOptions();
        var options = new ReconciliationOptions
        {
            // The same bounds as the Bicep parameters (infra/main.bicep).
            UsersPerRun = SettingValues.WholeNumber(configuration, AppSettingNames.ReconciliationUsersPerRun, defaults.UsersPerRun, minimum: 1, maximum: 100_000),
            Concurrency = SettingValues.WholeNumber(configuration, AppSettingNames.ReconciliationConcurrency, defaults.Concurrency, minimum: 1, maximum: 256),
            CallsPerSecond = SettingValues.WholeNumber(configuration, AppSettingNames.ReconciliationCallsPerSecond, defaults.CallsPerSecond, minimum: 1, maximum: 100_000),
            OpenImAppId = SettingValues.Text(configuration, AppSettingNames.OpenImAppId, new OpenImOptions().AppId),
        };
        foreach (var app in configuration.GetSection(AppSettingNames.ReconciliationTencentApps).GetChildren())
        {
            var setting = $"{AppSettingNames.ReconciliationTencentApps}:{app.Key}";
            if (!long.TryParse(app.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                throw new InvalidOperationException($"Setting '{setting}': a Tencent SdkAppid is a number.");
            }

            var secretKey = app[AppSettingNames.ReconciliationSecretKeyKey];
            if (string.IsNullOrWhiteSpace(secretKey))
            {
                continue; // listed without a key (as in local.settings.sample.json): not reconciled
            }

            var appDefaults = new TencentReconcileApp();
            options.TencentApps[app.Key] = new TencentReconcileApp
            {
                SecretKey = secretKey.Trim(),
                AdminIdentifier = SettingValues.Text(app, AppSettingNames.ReconciliationAdminIdentifierKey, appDefaults.AdminIdentifier),
                Domain = CheckedUrl(SettingValues.Text(app, AppSettingNames.ReconciliationDomainKey, appDefaults.Domain), $"{setting}:{AppSettingNames.ReconciliationDomainKey}"),
            };
        }

        var apiUrl = configuration[AppSettingNames.ReconciliationOpenImApiUrl];
        if (!string.IsNullOrWhiteSpace(apiUrl))
        {
            var secret = configuration[AppSettingNames.ReconciliationOpenImSecret];
            if (string.IsNullOrWhiteSpace(secret))
            {
                throw new InvalidOperationException($"Setting '{AppSettingNames.ReconciliationOpenImSecret}' is required with '{AppSettingNames.ReconciliationOpenImApiUrl}'.");
            }

            options.OpenIm = new OpenImReconcileApp
            {
                ApiUrl = CheckedUrl(apiUrl.Trim(), AppSettingNames.ReconciliationOpenImApiUrl),
                Secret = secret,
                AdminUserId = SettingValues.Text(configuration, AppSettingNames.ReconciliationOpenImAdminUserId, new OpenImReconcileApp().AdminUserId),
            };
        }

        return options;
    }

    /// <summary>The schedule as the standalone service reads it: NCRONTAB with seconds, as the Functions timer does.</summary>
    public static CronExpression ReadSchedule(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        try
        {
            return CronExpression.Parse(SettingValues.Text(configuration, AppSettingNames.ReconciliationSchedule, DefaultSchedule), CronFormat.IncludeSeconds);
        }
        catch (CronFormatException ex)
        {
            throw new InvalidOperationException(
                $"Setting '{AppSettingNames.ReconciliationSchedule}' must be a six-field NCRONTAB expression (second minute hour day month weekday), such as '{DefaultSchedule}': {ex.Message}", ex);
        }
    }

    private static string CheckedUrl(string value, string setting)
    {
        try
        {
            _ = AdminApi.BaseUri(value);
            return value;
        }
        catch (Exception ex) when (ex is UriFormatException or ArgumentException)
        {
            throw new InvalidOperationException($"Setting '{setting}' must be a host name or an absolute URL: {ex.Message}", ex);
        }
    }
}

/// <summary>Standalone: runs the scheduled reconciliation at each occurrence of the schedule, one run at a time.</summary>
public sealed class ReconciliationScheduleService(
    CronExpression schedule, ScheduledReconciliation run, TimeProvider clock, ILogger<ReconciliationScheduleService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = clock.GetUtcNow();
            if (schedule.GetNextOccurrence(now, TimeZoneInfo.Utc) is not { } next)
            {
                return;
            }

            try
            {
                await Task.Delay(next - now, clock, stoppingToken).ConfigureAwait(false);
                var report = await run.RunAsync(stoppingToken).ConfigureAwait(false);
                ReconcileScheduleLog.Ran(logger, report.ToString());
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }
}

internal static partial class ReconcileScheduleLog
{
    [LoggerMessage(EventId = 310, Level = LogLevel.Information, Message = "Scheduled reconciliation: {Summary}")]
    public static partial void Ran(ILogger logger, string summary);
}
