using System.Text.Json;
using System.Text.RegularExpressions;
using FunctionApp.Hosting;
using Microsoft.Extensions.Configuration;

namespace FunctionApp.Tests.Deployment;

/// <summary>
/// The app settings the compiled template writes against the names the app reads (<see cref="AppSettingNames"/>),
/// both ways: nothing the app needs is missing, nothing is written that nobody reads.
/// </summary>
[Collection(CompiledTemplatesCollection.Name)]
public sealed partial class CompiledAppSettingsTests(CompiledTemplates templates)
{
    /// <summary>Settings the Functions host itself reads, not the handler, each with its reason.</summary>
    private static readonly Dictionary<string, string> HostSettings = new()
    {
        ["APPLICATIONINSIGHTS_CONNECTION_STRING"] = "the host sends telemetry to Application Insights",
        ["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] = "the host authenticates telemetry with the identity (local auth is off)",
    };

    /// <summary>The host's own storage connection, identity-based like the app's.</summary>
    private const string HostStorage = "AzureWebJobsStorage";

    /// <summary>Children an identity-based connection section may have (name__child).</summary>
    private static readonly string[] IdentityConnectionChildren =
        ["blobServiceUri", "queueServiceUri", "tableServiceUri", "fullyQualifiedNamespace", "credential", "clientId"];

    /// <summary>The per-app reconciliation settings the template generates, with {0} for the SdkAppid.</summary>
    private static readonly HashSet<string> ReconcileAppSettingPatterns =
    [
        .. new[] { AppSettingNames.ReconciliationSecretKeyKey, AppSettingNames.ReconciliationAdminIdentifierKey, AppSettingNames.ReconciliationDomainKey }
            .Select(key => $"{FunctionsModeSettings.EnvironmentName(AppSettingNames.ReconciliationTencentApps)}__{{0}}__{key}"),
    ];

    public static TheoryData<string> SettingsFunctionsModeReads() => FunctionsModeSettings.NamesAsTheoryData();

    [Theory]
    [MemberData(nameof(SettingsFunctionsModeReads))]
    public void Template_writes_every_setting_the_app_reads(string name)
    {
        var written = WrittenSettingNames();
        var environmentName = FunctionsModeSettings.EnvironmentName(name);
        if (name == AppSettingNames.TencentApps)
        {
            // One setting per SdkAppid, generated from the secure tencentCallbackTokens parameter.
            Assert.Contains(FunctionsModeSettings.TencentAppTokenPattern, written);
            return;
        }

        if (name == AppSettingNames.ReconciliationTencentApps)
        {
            // One set per SdkAppid, generated from the secure tencentReconcileApps parameter.
            Assert.Subset(written, ReconcileAppSettingPatterns);
            return;
        }

        // A connection is a single value or a section of identity-based values (name__child).
        Assert.True(
            written.Any(setting => setting == environmentName || setting.StartsWith(environmentName + "__", StringComparison.Ordinal)),
            $"The compiled template does not write {environmentName}. It writes: {string.Join(", ", written)}");
    }

    [Fact]
    public void Template_writes_nothing_the_app_or_host_does_not_read()
    {
        var read = FunctionsModeSettings.Names.Select(FunctionsModeSettings.EnvironmentName).ToHashSet(StringComparer.Ordinal);
        var connections = new HashSet<string>(read, StringComparer.Ordinal) { HostStorage };

        var unread = WrittenSettingNames().Where(setting =>
            !read.Contains(setting)
            && !HostSettings.ContainsKey(setting)
            && setting != FunctionsModeSettings.TencentAppTokenPattern
            && !ReconcileAppSettingPatterns.Contains(setting)
            && !IsIdentityConnectionChild(setting, connections));

        Assert.Empty(unread);
    }

    [Theory]
    [InlineData(HostStorage, "blobServiceUri", "storageBlobEndpoint")]
    [InlineData(HostStorage, "queueServiceUri", "storageQueueEndpoint")]
    [InlineData(HostStorage, "tableServiceUri", "storageTableEndpoint")]
    [InlineData(AppSettingNames.ServiceBusConnection, "fullyQualifiedNamespace", "serviceBusFullyQualifiedNamespace")]
    [InlineData(AppSettingNames.RelationshipStorage, "tableServiceUri", "storageTableEndpoint")]
    public void Connections_are_identity_based(string connection, string endpointSetting, string endpointParameter)
    {
        var settings = WrittenSettings();
        Assert.Equal($"[parameters('{endpointParameter}')]", settings[$"{connection}__{endpointSetting}"]);
        Assert.Equal("managedidentity", settings[$"{connection}__credential"]);
        Assert.Equal("[parameters('identityClientId')]", settings[$"{connection}__clientId"]);
        // No connection string (it would carry a key) under the connection's own name.
        Assert.DoesNotContain(connection, settings.Keys);
    }

    [Fact]
    public async Task The_handler_reads_the_service_bus_connection_the_template_writes_as_the_trigger_does()
    {
        // The template's values with its parameters filled in, spelled as app settings (environment variables).
        var parameters = new Dictionary<string, string>
        {
            ["[parameters('serviceBusFullyQualifiedNamespace')]"] = "relcb-test.servicebus.windows.net",
            ["[parameters('identityClientId')]"] = "00000000-0000-0000-0000-000000000001",
        };
        var prefix = AppSettingNames.ServiceBusConnection + "__";
        var values = WrittenSettings()
            .Where(setting => setting.Key.StartsWith(prefix, StringComparison.Ordinal))
            .ToDictionary(setting => setting.Key.Replace("__", ":", StringComparison.Ordinal),
                setting => (string?)parameters.GetValueOrDefault(setting.Value, setting.Value));
        Assert.Equal(3, values.Count);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();

        await using var client = ServiceBusConnection.CreateClient(configuration);

        Assert.Equal("relcb-test.servicebus.windows.net", client.FullyQualifiedNamespace);
    }

    [Fact]
    public void Readme_names_every_service_bus_setting_the_template_writes()
    {
        var readme = DeploymentFiles.Text("README.md");
        var written = WrittenSettingNames().Where(name =>
            name == AppSettingNames.ServiceBusConnection || name.StartsWith(AppSettingNames.ServiceBusConnection + "__", StringComparison.Ordinal)).ToList();

        Assert.NotEmpty(written);
        Assert.All(written, name => Assert.Contains($"`{name}`", readme, StringComparison.Ordinal));
    }

    [Fact]
    public void Callback_secrets_are_key_vault_references_resolved_with_the_app_identity()
    {
        var app = templates.Main.Module("functionApp");
        // The app module is given no secret at all: its settings point at the vault.
        Assert.DoesNotContain(app.Root.GetProperty("parameters").EnumerateObject(), parameter => IsSecure(app, parameter.Value));

        var settings = WrittenSettings();
        var reference = app.Variable("openImCallbackKeyReference").GetString();
        Assert.Equal("[variables('openImCallbackKeyReference')]", settings[FunctionsModeSettings.EnvironmentName(AppSettingNames.OpenImCallbackKey)]);
        Assert.Equal(
            "[format('@Microsoft.KeyVault(SecretUri={0}secrets/{1})', parameters('keyVaultUri'), variables('callbackSecretNames').openImCallbackKey)]",
            reference);
        var tencent = TencentSettingsExpression(app);
        Assert.StartsWith("[toObject(parameters('tencentAppIds'), ", tencent, StringComparison.Ordinal);
        Assert.Contains(
            "lambda('appId', format('@Microsoft.KeyVault(SecretUri={0}secrets/{1}{2})', parameters('keyVaultUri'), variables('callbackSecretNames').tencentCallbackTokenPrefix, lambdaVariables('appId')))",
            tencent,
            StringComparison.Ordinal);

        // The references name the secrets the vault module creates, in the vault it creates, resolved by the app's identity.
        Assert.True(JsonElement.DeepEquals(templates.Main.Module("keyVault").Variable("callbackSecretNames"), app.Variable("callbackSecretNames")));
        Assert.Equal("[reference('keyVault').outputs.vaultUri.value]", templates.Main.ModuleArgument("functionApp", "keyVaultUri").GetString());
        Assert.Equal("[variables('tencentAppIds')]", templates.Main.ModuleArgument("functionApp", "tencentAppIds").GetString());
        Assert.Equal("[objectKeys(parameters('tencentCallbackTokens'))]", templates.Main.Variable("tencentAppIds").GetString());
        var site = app.Resource("Microsoft.Web/sites").Properties;
        Assert.Equal("[parameters('identityResourceId')]", site.GetProperty("keyVaultReferenceIdentity").GetString());
    }

    [Fact]
    public void Reconciliation_secrets_are_key_vault_references_and_the_rest_plain_settings()
    {
        var app = templates.Main.Module("functionApp");
        var settings = WrittenSettings();
        var reconcileApps = FunctionsModeSettings.EnvironmentName(AppSettingNames.ReconciliationTencentApps);

        // OpenIM's admin secret: a reference when OpenIM is reconciled (its URL set), else empty.
        Assert.Equal("[variables('openImAdminSecretReference')]", settings[FunctionsModeSettings.EnvironmentName(AppSettingNames.ReconciliationOpenImSecret)]);
        Assert.Equal(
            "[if(empty(parameters('openImApiUrl')), '', format('@Microsoft.KeyVault(SecretUri={0}secrets/{1})', parameters('keyVaultUri'), variables('callbackSecretNames').openImAdminSecret))]",
            app.Variable("openImAdminSecretReference").GetString());
        Assert.Equal("[variables('openImReconcileApiUrl')]", templates.Main.ModuleArgument("functionApp", "openImApiUrl").GetString());

        // Each reconciled Tencent app's secret key: a reference to its own secret; admin and domain are plain values.
        Assert.Equal(
            "[toObject(objectKeys(parameters('tencentReconcileApps')), lambda('appId', format('Reconciliation__Tencent__Apps__{0}__SecretKey', lambdaVariables('appId'))), "
            + "lambda('appId', format('@Microsoft.KeyVault(SecretUri={0}secrets/{1}{2})', parameters('keyVaultUri'), variables('callbackSecretNames').tencentReconcileSecretKeyPrefix, lambdaVariables('appId'))))]",
            settings[$"{reconcileApps}__{{0}}__{AppSettingNames.ReconciliationSecretKeyKey}"]);
        Assert.EndsWith("lambda('app', lambdaVariables('app').value.adminIdentifier))]", settings[$"{reconcileApps}__{{0}}__{AppSettingNames.ReconciliationAdminIdentifierKey}"], StringComparison.Ordinal);
        Assert.EndsWith("lambda('app', lambdaVariables('app').value.domain))]", settings[$"{reconcileApps}__{{0}}__{AppSettingNames.ReconciliationDomainKey}"], StringComparison.Ordinal);

        // The module gets only the non-secret part of tencentReconcileApps, keyed by the checked SdkAppids, defaults filled in.
        Assert.Equal("[variables('tencentReconcileAccess')]", templates.Main.ModuleArgument("functionApp", "tencentReconcileApps").GetString());
        var access = templates.Main.Variable("tencentReconcileAccess").GetString()!;
        Assert.StartsWith("[toObject(variables('tencentReconcileAppIds'), ", access, StringComparison.Ordinal);
        Assert.DoesNotContain("secretKey", access, StringComparison.Ordinal);
        Assert.False(IsSecure(app, app.Parameter("tencentReconcileApps")));

        // The schedule and the limits stay plain settings.
        Assert.Equal("[parameters('reconciliationSchedule')]", settings[AppSettingNames.ReconciliationSchedule]);
        Assert.Equal("[string(parameters('reconciliationUsersPerRun'))]", settings[FunctionsModeSettings.EnvironmentName(AppSettingNames.ReconciliationUsersPerRun)]);
        Assert.Equal("[string(parameters('reconciliationConcurrency'))]", settings[FunctionsModeSettings.EnvironmentName(AppSettingNames.ReconciliationConcurrency)]);
        Assert.Equal("[parameters('openImAdminUserId')]", settings[FunctionsModeSettings.EnvironmentName(AppSettingNames.ReconciliationOpenImAdminUserId)]);
    }

    private static bool IsSecure(ArmTemplate template, JsonElement parameter)
    {
        var type = parameter.TryGetProperty("type", out var direct)
            ? direct.GetString()
            : template.DefinitionOf(parameter).GetProperty("type").GetString();
        return type is "securestring" or "secureObject";
    }

    [Fact]
    public void Queue_setting_is_the_queue_the_template_creates()
    {
        Assert.Equal("[parameters('relationshipEventsQueueName')]", WrittenSettings()[AppSettingNames.RelationshipEventsQueue]);
        Assert.Equal("[reference('serviceBus').outputs.queueName.value]", templates.Main.ModuleArgument("functionApp", "relationshipEventsQueueName").GetString());
    }

    /// <summary>Every app setting the template writes, by name, with its value or expression.</summary>
    private Dictionary<string, string> WrittenSettings()
    {
        var app = templates.Main.Module("functionApp");
        var config = Assert.Single(
            app.ResourcesOf("Microsoft.Web/sites/config"),
            resource => resource.Name.EndsWith("'appsettings')]", StringComparison.Ordinal));

        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        if (config.Properties.ValueKind == JsonValueKind.Object)
        {
            AddLiteral(settings, config.Properties);
            return settings;
        }

        // union() of object variables and the generated per-app Tencent settings: any other shape is not read here,
        // so fail rather than miss a setting.
        var expression = config.Properties.GetString()!;
        Assert.Matches(UnionOfVariables(), expression);
        foreach (var variable in ArmTemplate.VariablesReadBy(expression))
        {
            var value = app.Variable(variable);
            if (value.ValueKind == JsonValueKind.Object)
            {
                AddLiteral(settings, value);
            }
            else
            {
                var name = GeneratedSettingName(value.GetString()!);
                Assert.True(settings.TryAdd(name, value.GetString()!), $"{name} is written twice.");
            }
        }

        return settings;
    }

    private HashSet<string> WrittenSettingNames() => [.. WrittenSettings().Keys];

    private static void AddLiteral(Dictionary<string, string> settings, JsonElement values)
    {
        foreach (var setting in values.EnumerateObject())
        {
            Assert.Equal(JsonValueKind.String, setting.Value.ValueKind);
            Assert.True(settings.TryAdd(setting.Name, setting.Value.GetString()!), $"{setting.Name} is written twice.");
        }
    }

    /// <summary>The name pattern of a generated setting: <c>toObject(..., format('Name__{0}__Child', ...), ...)</c>.</summary>
    private static string GeneratedSettingName(string expression) =>
        GeneratedSettingNameOrNull(expression)
        ?? throw new Xunit.Sdk.XunitException($"An app-settings variable is neither an object nor toObject(..., format(...)): {expression}");

    private static string TencentSettingsExpression(ArmTemplate app) =>
        Assert.Single(
            app.Root.GetProperty("variables").EnumerateObject()
                .Where(variable => variable.Value.ValueKind == JsonValueKind.String
                    && GeneratedSettingNameOrNull(variable.Value.GetString()!) == FunctionsModeSettings.TencentAppTokenPattern)
                .Select(variable => variable.Value.GetString()!));

    private static string? GeneratedSettingNameOrNull(string expression) =>
        ToObjectWithFormattedKeys().Match(expression) is { Success: true } match ? match.Groups["pattern"].Value : null;

    private static bool IsIdentityConnectionChild(string setting, HashSet<string> connections)
    {
        var separator = setting.LastIndexOf("__", StringComparison.Ordinal);
        return separator > 0
            && connections.Contains(setting[..separator])
            && IdentityConnectionChildren.Contains(setting[(separator + 2)..], StringComparer.Ordinal);
    }

    [GeneratedRegex(@"^\[union\(variables\('[^']+'\)(, variables\('[^']+'\))*\)\]$")]
    private static partial Regex UnionOfVariables();

    [GeneratedRegex(@"^\[toObject\(.*?, lambda\('\w+', format\('(?<pattern>[^']+)', ")]
    private static partial Regex ToObjectWithFormattedKeys();
}
