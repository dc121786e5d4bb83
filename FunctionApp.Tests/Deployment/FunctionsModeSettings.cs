using System.Reflection;
using FunctionApp.Hosting;

namespace FunctionApp.Tests.Deployment;

/// <summary>
/// The settings a Functions deployment gives the app, from <see cref="AppSettingNames"/>: every name there except
/// those in <see cref="NotSetInFunctionsMode"/>. The Bicep app settings and local.settings.sample.json are both
/// checked against it.
/// </summary>
internal static class FunctionsModeSettings
{
    /// <summary>Names in <see cref="AppSettingNames"/> that a Functions deployment does not set, each with its reason.</summary>
    public static readonly IReadOnlyDictionary<string, string> NotSetInFunctionsMode = new Dictionary<string, string>
    {
        [AppSettingNames.QueryApiKeys] = "standalone only: in Functions mode the host's function keys protect the query API",
        [AppSettingNames.QueryApiAppKeys] = "standalone only: in Functions mode the host's function keys protect the query API",
        [AppSettingNames.Port] = "standalone only: the Functions host chooses the handler's port",
        [AppSettingNames.FunctionsCustomHandlerPort] = "set by the Functions host when it starts the handler",
        [AppSettingNames.TencentCallbackTokenKey] = "child key of each Tencent app, checked together with TencentApps",
        [AppSettingNames.StandaloneQueueVisibilityTimeoutSeconds] = "standalone only: on Azure Service Bus's lock and host.json govern redelivery",
        [AppSettingNames.StandaloneQueueMaxPollIntervalMilliseconds] = "standalone only: on Azure the Service Bus trigger receives messages",
        [AppSettingNames.StandaloneQueueAcknowledgementLatencyTargetMilliseconds] = "standalone only: on Azure acknowledgement and apply do not share a drain",
        [AppSettingNames.StandaloneQueueDrainEnabled] = "standalone only: on Azure ReceiveCallback and ApplyRelationshipEvents already scale apart",
        [AppSettingNames.HttpMaxConcurrentConnections] = "standalone only: in Functions mode the host is the only caller and its front end sets the limits",
        [AppSettingNames.HttpMinRequestBodyBytesPerSecond] = "standalone only: in Functions mode the host reads the body before it invokes the handler",
        [AppSettingNames.HttpRequestHeadersTimeoutSeconds] = "standalone only: in Functions mode the host's front end receives the request",
        [AppSettingNames.HttpRequestTimeoutSeconds] = "standalone only: in Functions mode functionTimeout in host.json bounds an invocation",
        [AppSettingNames.CallbacksAllowUnsigned] = "local runs and tests only: a deployment must sign its callbacks, so startup refuses unsigned ones",
        [AppSettingNames.ReconciliationSecretKeyKey] = "child key of each reconciled Tencent app, checked together with ReconciliationTencentApps",
        [AppSettingNames.ReconciliationAdminIdentifierKey] = "child key of each reconciled Tencent app, set by Bicep from tencentReconcileApps",
        [AppSettingNames.ReconciliationDomainKey] = "child key of each reconciled Tencent app, set by Bicep from tencentReconcileApps",
        [AppSettingNames.ReconciliationStandaloneEnabled] = "standalone only: on Azure the ReconcileOnSchedule timer function runs the schedule",
        [AppSettingNames.BenchmarkBaselineEndpoint] = "benchmark only: bench/run sets it on its own local runs; off by default and never deployed",
    };

    /// <summary>Every constant of <see cref="AppSettingNames"/>, in .NET configuration form (':').</summary>
    public static IReadOnlySet<string> AllNames { get; } =
        typeof(AppSettingNames).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(field => field.IsLiteral && field.FieldType == typeof(string))
            .Select(field => (string)field.GetRawConstantValue()!)
            .ToHashSet(StringComparer.Ordinal);

    /// <summary>The names a Functions deployment sets, in .NET configuration form (':').</summary>
    public static IReadOnlyList<string> Names { get; } =
        [.. AllNames.Where(name => !NotSetInFunctionsMode.ContainsKey(name)).Order(StringComparer.Ordinal)];

    /// <summary>App setting (environment variable) spelling of a configuration name: ':' becomes '__'.</summary>
    public static string EnvironmentName(string name) => name.Replace(":", "__", StringComparison.Ordinal);

    /// <summary>The per-app Tencent setting, with <c>{0}</c> where the SdkAppid goes.</summary>
    public static string TencentAppTokenPattern { get; } =
        $"{EnvironmentName(AppSettingNames.TencentApps)}__{{0}}__{AppSettingNames.TencentCallbackTokenKey}";

    public static TheoryData<string> NamesAsTheoryData()
    {
        var data = new TheoryData<string>();
        foreach (var name in Names)
        {
            data.Add(name);
        }

        return data;
    }
}
