using FunctionApp.Protocols;
using FunctionApp.Protocols.OpenIm;
using FunctionApp.Protocols.Tencent;

namespace FunctionApp.Hosting;

/// <summary>The protocol options read from configuration, and what is worth a warning at startup.</summary>
public sealed record ProtocolConfigurationResult(ProtocolOptions Options, IReadOnlyList<string> Warnings);

/// <summary>Reads <see cref="ProtocolOptions"/> from configuration under the names in <see cref="AppSettingNames"/>.</summary>
public static class ProtocolConfiguration
{
    /// <exception cref="InvalidOperationException">A number setting is not a positive whole number, or a callback would be unsigned without <c>Callbacks:AllowUnsigned</c>.</exception>
    public static ProtocolConfigurationResult Read(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var warnings = new List<string>();
        var unsigned = new List<string>();

        var apps = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var app in configuration.GetSection(AppSettingNames.TencentApps).GetChildren())
        {
            var token = app[AppSettingNames.TencentCallbackTokenKey]?.Trim() ?? "";
            apps[app.Key] = token.Length == 0
                ? token
                : SettingValues.Secret($"{AppSettingNames.TencentApps}:{app.Key}:{AppSettingNames.TencentCallbackTokenKey}", token);
            if (token.Length == 0)
            {
                unsigned.Add($"Tencent app {app.Key} has no callback token ({AppSettingNames.TencentApps}:{app.Key}:{AppSettingNames.TencentCallbackTokenKey}): its callbacks would be accepted without a signature check");
            }
        }

        if (apps.Count == 0)
        {
            warnings.Add($"No Tencent app is configured ({AppSettingNames.TencentApps}:<SdkAppid>:{AppSettingNames.TencentCallbackTokenKey}): every Tencent callback will be refused.");
        }

        var tencent = new TencentOptions { Apps = apps };
        tencent.MaxClockSkewSeconds = SettingValues.PositiveInt(configuration, AppSettingNames.TencentMaxClockSkewSeconds, tencent.MaxClockSkewSeconds);

        var openIm = new OpenImOptions();
        openIm.AppId = SettingValues.Text(configuration, AppSettingNames.OpenImAppId, openIm.AppId);

        var key = configuration[AppSettingNames.OpenImCallbackKey];
        openIm.CallbackKey = string.IsNullOrWhiteSpace(key) ? null : SettingValues.Secret(AppSettingNames.OpenImCallbackKey, key.Trim());
        if (openIm.CallbackKey is null)
        {
            unsigned.Add($"{AppSettingNames.OpenImCallbackKey} is not set: anyone who can reach /api/callbacks/openim could post OpenIM callbacks");
        }
        else if (openIm.CallbackKey.Contains('/', StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{AppSettingNames.OpenImCallbackKey} must be one path segment (no '/').");
        }

        RefuseUnsignedUnlessAllowed(configuration, unsigned, warnings);

        var limits = new CallbackLimits();
        limits.MaxBodyBytes = SettingValues.PositiveInt(configuration, AppSettingNames.CallbacksMaxBodyBytes, limits.MaxBodyBytes);
        limits.MaxPairs = SettingValues.PositiveInt(configuration, AppSettingNames.CallbacksMaxPairs, limits.MaxPairs);

        return new ProtocolConfigurationResult(new ProtocolOptions { Tencent = tencent, OpenIm = openIm, Limits = limits }, warnings);
    }

    /// <summary>
    /// Unsigned callbacks let anyone who finds the URL write edges, so they stop startup unless
    /// <c>Callbacks:AllowUnsigned</c> is true (the local run and tests); then each one is a startup warning.
    /// </summary>
    private static void RefuseUnsignedUnlessAllowed(IConfiguration configuration, List<string> unsigned, List<string> warnings)
    {
        if (unsigned.Count == 0)
        {
            return;
        }

        if (!SettingValues.Bool(configuration, AppSettingNames.CallbacksAllowUnsigned, fallback: false))
        {
            throw new InvalidOperationException(
                $"Refusing to start with unsigned callbacks: {string.Join("; ", unsigned)}. Configure the token or key, or set "
                + $"{AppSettingNames.CallbacksAllowUnsigned}=true to accept unsigned callbacks (local runs and tests only, never a deployment).");
        }

        warnings.AddRange(unsigned.Select(problem => problem + "."));
        warnings.Add($"{AppSettingNames.CallbacksAllowUnsigned} is true: unsigned callbacks are accepted. Never set it on a deployment.");
    }
}
