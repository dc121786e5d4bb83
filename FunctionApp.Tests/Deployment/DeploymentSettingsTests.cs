using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using FunctionApp.Hosting;

namespace FunctionApp.Tests.Deployment;

/// <summary>
/// Keeps configuration and resource names in step across the app's constants, <c>host.json</c>, the function
/// folders, <c>local.settings.sample.json</c> and the Bicep templates.
/// </summary>
public class DeploymentSettingsTests
{
    private const string FunctionAppBicep = "infra/app/functionapp.bicep";
    private const string MainBicep = "infra/main.bicep";

    /// <summary>
    /// Names in <see cref="AppSettingNames"/> that a Functions deployment does not set, each with its reason.
    /// Every other name must be set by the Bicep and present in local.settings.sample.json.
    /// </summary>
    private static readonly Dictionary<string, string> NotSetInFunctionsMode = new()
    {
        [AppSettingNames.QueryApiKeys] = "standalone only: in Functions mode the host's function keys protect the query API",
        [AppSettingNames.Port] = "standalone only: the Functions host chooses the handler's port",
        [AppSettingNames.FunctionsCustomHandlerPort] = "set by the Functions host when it starts the handler",
        [AppSettingNames.TencentCallbackTokenKey] = "child key of each Tencent app, checked together with TencentApps",
        [AppSettingNames.StandaloneQueueVisibilityTimeoutSeconds] = "standalone only: on Azure Service Bus's lock and host.json govern redelivery",
        [AppSettingNames.StandaloneQueueRetryDelaySeconds] = "standalone only: on Azure Service Bus redelivers an abandoned message",
        [AppSettingNames.StandaloneQueueMaxDequeueCount] = "standalone only: on Azure the queue's maxDeliveryCount (Bicep) dead-letters",
        [AppSettingNames.StandaloneQueueMaxPollIntervalMilliseconds] = "standalone only: on Azure the Service Bus trigger receives messages",
        [AppSettingNames.StandaloneQueueDrainEnabled] = "standalone only: on Azure ReceiveCallback and ApplyRelationshipEvents already scale apart",
        [AppSettingNames.ReconciliationSecretKeyKey] = "child key of each reconciled Tencent app, checked together with ReconciliationTencentApps",
        [AppSettingNames.ReconciliationAdminIdentifierKey] = "child key of each reconciled Tencent app, set by Bicep from tencentReconcileApps",
        [AppSettingNames.ReconciliationDomainKey] = "child key of each reconciled Tencent app, set by Bicep from tencentReconcileApps",
        [AppSettingNames.ReconciliationStandaloneEnabled] = "standalone only: on Azure the ReconcileOnSchedule timer function runs the schedule",
        [AppSettingNames.BenchmarkBaselineEndpoint] = "benchmark only: bench/run sets it on its own local runs; off by default and never deployed",
    };

    public static TheoryData<string> SettingsFunctionsModeReads()
    {
        var data = new TheoryData<string>();
        foreach (var name in AllSettingNames().Where(name => !NotSetInFunctionsMode.ContainsKey(name)))
        {
            data.Add(name);
        }

        return data;
    }

    [Fact]
    public void Every_exception_names_a_current_setting()
    {
        var names = AllSettingNames();
        Assert.All(NotSetInFunctionsMode.Keys, name => Assert.Contains(name, names));
        Assert.NotEmpty(SettingsFunctionsModeReads());
    }

    [Theory]
    [MemberData(nameof(SettingsFunctionsModeReads))]
    public void Setting_is_set_by_bicep_and_present_in_local_settings(string name)
    {
        var environmentName = name.Replace(":", "__", StringComparison.Ordinal);
        var bicepNames = BicepAppSettingNames();
        var localNames = LocalSettingNames();

        if (name == AppSettingNames.TencentApps)
        {
            // One setting per SdkAppid, generated from the secure tencentCallbackTokens parameter.
            var perApp = $"{environmentName}__${{app.key}}__{AppSettingNames.TencentCallbackTokenKey}";
            Assert.Contains($"'{perApp}'", Bicep(FunctionAppBicep), StringComparison.Ordinal);
            Assert.Contains(localNames, local => Regex.IsMatch(
                local, $"^{environmentName}__[0-9]+__{AppSettingNames.TencentCallbackTokenKey}$"));
            return;
        }

        if (name == AppSettingNames.ReconciliationTencentApps)
        {
            // One setting per key and SdkAppid, generated from the secure tencentReconcileApps parameter.
            var perApp = $"{environmentName}__${{app.key}}__{AppSettingNames.ReconciliationSecretKeyKey}";
            Assert.Contains($"'{perApp}'", Bicep(FunctionAppBicep), StringComparison.Ordinal);
            Assert.Contains(localNames, local => Regex.IsMatch(
                local, $"^{environmentName}__[0-9]+__{AppSettingNames.ReconciliationSecretKeyKey}$"));
            return;
        }

        // A connection may be one value (a connection string) or a section of identity-based values (name__child).
        Assert.True(
            bicepNames.Any(bicep => bicep == environmentName || bicep.StartsWith(environmentName + "__", StringComparison.Ordinal)),
            $"infra/app/functionapp.bicep does not set {environmentName}.");
        Assert.Contains(environmentName, localNames);
    }

    [Fact]
    public void Bicep_sets_no_standalone_only_or_runtime_setting()
    {
        var bicepNames = BicepAppSettingNames();
        Assert.DoesNotContain(bicepNames, name => name.StartsWith("QueryApi__", StringComparison.Ordinal));
        Assert.DoesNotContain(bicepNames, name => name.StartsWith("Benchmark__", StringComparison.Ordinal));
        Assert.DoesNotContain(AppSettingNames.Port, bicepNames);
        Assert.DoesNotContain(AppSettingNames.FunctionsCustomHandlerPort, bicepNames);
        // Flex Consumption takes the runtime from functionAppConfig.runtime and refuses this setting.
        Assert.DoesNotContain("FUNCTIONS_WORKER_RUNTIME", bicepNames);
        Assert.Contains("APPLICATIONINSIGHTS_CONNECTION_STRING", bicepNames);
        Assert.Contains("APPLICATIONINSIGHTS_AUTHENTICATION_STRING", bicepNames);
        Assert.Contains("union(identityAppSettings, productAppSettings, tencentAppSettings)", Bicep(FunctionAppBicep), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("AzureWebJobsStorage", "blobServiceUri")]
    [InlineData(AppSettingNames.ServiceBusConnection, "fullyQualifiedNamespace")]
    [InlineData(AppSettingNames.RelationshipStorage, "tableServiceUri")]
    public void Connections_are_identity_based_in_bicep(string connection, string endpointSetting)
    {
        var bicepNames = BicepAppSettingNames();
        Assert.Contains($"{connection}__{endpointSetting}", bicepNames);
        Assert.Contains($"{connection}__clientId", bicepNames);
        Assert.Matches($@"(?m)^\s+{connection}__credential: 'managedidentity'$", Bicep(FunctionAppBicep));
        Assert.DoesNotContain(connection, bicepNames);
    }

    [Fact]
    public void Templates_keep_keys_disabled_and_hold_no_secret()
    {
        var infra = string.Join('\n', Directory.GetFiles(DeploymentFiles.PathOf("infra"), "*.bicep", SearchOption.AllDirectories).Select(File.ReadAllText));
        Assert.Contains("allowSharedKeyAccess: false", infra, StringComparison.Ordinal);
        Assert.Contains("allowBlobPublicAccess: false", infra, StringComparison.Ordinal);
        Assert.Contains("minimumTlsVersion: 'TLS1_2'", infra, StringComparison.Ordinal);
        Assert.Contains("disableLocalAuth: true", infra, StringComparison.Ordinal);
        Assert.Contains("DisableLocalAuth: true", infra, StringComparison.Ordinal);
        Assert.Contains("httpsOnly: true", infra, StringComparison.Ordinal);
        Assert.Contains("ftpsState: 'Disabled'", infra, StringComparison.Ordinal);
        Assert.Matches(@"runtime: \{\s+name: 'custom'", infra);
        Assert.DoesNotContain("listKeys(", infra, StringComparison.Ordinal);
        Assert.DoesNotContain("AccountKey=", infra, StringComparison.Ordinal);
        Assert.DoesNotContain("SharedAccessKey", infra, StringComparison.Ordinal);
        // Callback secrets arrive only through secure parameters.
        Assert.Matches(@"@secure\(\)\s+param tencentCallbackTokens object", Bicep(MainBicep));
        Assert.Matches(@"@secure\(\)\s+param openImCallbackKey string", Bicep(MainBicep));
        Assert.Matches(@"@secure\(\)\s+param tencentReconcileApps object", Bicep(MainBicep));
        Assert.Matches(@"@secure\(\)\s+param openImAdminSecret string", Bicep(MainBicep));
    }

    [Fact]
    public void Local_settings_sample_serves_func_start_with_local_defaults()
    {
        using var local = DeploymentFiles.Json("local.settings.sample.json");
        var values = local.RootElement.GetProperty("Values");
        Assert.All(LocalSettingNames(), name => Assert.DoesNotContain(':', name));
        Assert.Equal("custom", values.GetProperty("FUNCTIONS_WORKER_RUNTIME").GetString());
        Assert.Equal("UseDevelopmentStorage=true", values.GetProperty("AzureWebJobsStorage").GetString());
        Assert.Equal("UseDevelopmentStorage=true", values.GetProperty(AppSettingNames.RelationshipStorage).GetString());
        Assert.StartsWith("Endpoint=sb://", values.GetProperty(AppSettingNames.ServiceBusConnection).GetString(), StringComparison.Ordinal);
        Assert.All(
            values.EnumerateObject(),
            setting => Assert.Equal(JsonValueKind.String, setting.Value.ValueKind));
    }

    [Fact]
    public void Queue_name_agrees_across_app_bicep_local_settings_and_bindings()
    {
        var queue = ResourceNames.DefaultRelationshipEventsQueue;
        Assert.Equal(queue, DeploymentFiles.BicepParameterDefault(Bicep(MainBicep), "relationshipEventsQueueName"));

        using var parameters = DeploymentFiles.Json("infra/main.parameters.json");
        Assert.Equal(queue, parameters.RootElement.GetProperty("parameters").GetProperty("relationshipEventsQueueName").GetProperty("value").GetString());

        using var local = DeploymentFiles.Json("local.settings.sample.json");
        Assert.Equal(queue, local.RootElement.GetProperty("Values").GetProperty(AppSettingNames.RelationshipEventsQueue).GetString());

        // Both bindings resolve the queue from the app setting, so one setting moves both ends.
        var bindingQueue = $"%{AppSettingNames.RelationshipEventsQueue}%";
        var output = Binding("ReceiveCallback", "batches");
        Assert.Equal(bindingQueue, output.GetProperty("queueName").GetString());
        Assert.Equal(AppSettingNames.ServiceBusConnection, output.GetProperty("connection").GetString());
        var trigger = Binding("ApplyRelationshipEvents", "message");
        Assert.Equal(bindingQueue, trigger.GetProperty("queueName").GetString());
        Assert.Equal(AppSettingNames.ServiceBusConnection, trigger.GetProperty("connection").GetString());
    }

    [Fact]
    public void Table_names_agree_between_app_and_bicep()
    {
        Assert.Equal(ResourceNames.Tables, DeploymentFiles.BicepStringArray(Bicep(MainBicep), "relationshipTables"));
        Assert.Contains("tableNames: relationshipTables", Bicep(MainBicep), StringComparison.Ordinal);
        Assert.Contains("for tableName in tableNames", Bicep("infra/app/storage.bicep"), StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string, string, string> HttpFunctions() => new()
    {
        { "ReceiveCallback", "post", "callbacks/{platform}/{*rest}", "anonymous", "serviceBus:batches" },
        { "QueryRelationships", "get", "v1/apps/{appId}/users/{userId}/{list:regex(^(friends|blocklist|friend-of|blocked-by)$)}", "function", "" },
        { "QueryHistory", "get", "v1/apps/{appId}/users/{userId}/history", "function", "" },
        { "Health", "get", "health", "anonymous", "" },
        { "ReconcileUser", "post", "v1/apps/{appId}/users/{userId}/reconcile", "function", "" },
    };

    [Theory]
    [MemberData(nameof(HttpFunctions))]
    public void Http_function_bindings_are_as_the_handler_expects(string function, string method, string route, string authLevel, string extraOutput)
    {
        var bindings = Bindings(function);
        var trigger = Assert.Single(bindings, binding => binding.GetProperty("type").GetString() == "httpTrigger");
        Assert.Equal("req", trigger.GetProperty("name").GetString());
        Assert.Equal("in", trigger.GetProperty("direction").GetString());
        Assert.Equal([method], trigger.GetProperty("methods").EnumerateArray().Select(item => item.GetString()));
        Assert.Equal(route, trigger.GetProperty("route").GetString());
        Assert.Equal(authLevel, trigger.GetProperty("authLevel").GetString());

        var http = Assert.Single(bindings, binding => binding.GetProperty("type").GetString() == "http");
        Assert.Equal("res", http.GetProperty("name").GetString());
        Assert.Equal("out", http.GetProperty("direction").GetString());

        // Only a pure httpTrigger + http pair is forwarded raw; any extra output makes it an invocation.
        var others = bindings.Where(binding => binding.GetProperty("type").GetString() is not ("httpTrigger" or "http"))
            .Select(binding => $"{binding.GetProperty("type").GetString()}:{binding.GetProperty("name").GetString()}");
        Assert.Equal(extraOutput.Length == 0 ? [] : [extraOutput], others);
    }

    [Fact]
    public void Apply_function_is_one_service_bus_trigger()
    {
        var binding = Assert.Single(Bindings("ApplyRelationshipEvents"));
        Assert.Equal("serviceBusTrigger", binding.GetProperty("type").GetString());
        Assert.Equal("in", binding.GetProperty("direction").GetString());
        Assert.Equal("message", binding.GetProperty("name").GetString());
    }

    [Fact]
    public void Scheduled_reconciliation_is_one_timer_trigger_on_the_schedule_setting()
    {
        var binding = Assert.Single(Bindings("ReconcileOnSchedule"));
        Assert.Equal(("timerTrigger", "in", "timer"), (binding.GetProperty("type").GetString(), binding.GetProperty("direction").GetString(), binding.GetProperty("name").GetString()));
        Assert.Equal($"%{AppSettingNames.ReconciliationSchedule}%", binding.GetProperty("schedule").GetString());
        Assert.False(binding.GetProperty("runOnStartup").GetBoolean());
        using var local = DeploymentFiles.Json("local.settings.sample.json");
        Assert.Equal(ReconciliationHosting.DefaultSchedule, local.RootElement.GetProperty("Values").GetProperty(AppSettingNames.ReconciliationSchedule).GetString());
        Assert.Equal(ReconciliationHosting.DefaultSchedule, DeploymentFiles.BicepParameterDefault(Bicep(MainBicep), "reconciliationSchedule"));
    }

    [Fact]
    public void Function_folders_are_exactly_the_five_functions()
    {
        Assert.Equal(
            ["ApplyRelationshipEvents", "Health", "QueryHistory", "QueryRelationships", "ReceiveCallback", "ReconcileOnSchedule", "ReconcileUser"],
            DeploymentFiles.FunctionFolders());
    }

    [Theory]
    [InlineData("friends", true)]
    [InlineData("blocklist", true)]
    [InlineData("friend-of", true)]
    [InlineData("blocked-by", true)]
    [InlineData("history", false)]
    [InlineData("friendsx", false)]
    public void List_route_constraint_leaves_history_to_its_own_function(string segment, bool matches)
    {
        // The host matches function routes in registration order, not by precedence, so {list} must not take "history".
        var route = Bindings("QueryRelationships").Single(binding => binding.GetProperty("type").GetString() == "httpTrigger")
            .GetProperty("route").GetString()!;
        var pattern = Regex.Match(route, @"\{list:regex\((?<pattern>.+)\)\}$").Groups["pattern"].Value;
        Assert.NotEmpty(pattern);
        Assert.Equal(matches, Regex.IsMatch(segment, pattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant));
    }

    [Fact]
    public void Host_json_starts_the_handler_the_package_script_publishes()
    {
        using var host = DeploymentFiles.Json("host.json");
        var root = host.RootElement;
        Assert.Equal("2.0", root.GetProperty("version").GetString());
        Assert.Equal("Microsoft.Azure.Functions.ExtensionBundle", root.GetProperty("extensionBundle").GetProperty("id").GetString());
        Assert.Equal("[4.*, 5.0.0)", root.GetProperty("extensionBundle").GetProperty("version").GetString());
        Assert.Equal("api", root.GetProperty("extensions").GetProperty("http").GetProperty("routePrefix").GetString());

        var customHandler = root.GetProperty("customHandler");
        Assert.True(customHandler.GetProperty("enableForwardingHttpRequest").GetBoolean());
        var executable = customHandler.GetProperty("description").GetProperty("defaultExecutablePath").GetString();
        var handlerAssembly = typeof(AppSettingNames).Assembly.GetName().Name;
        Assert.Equal($"handler/{handlerAssembly}", executable);

        var script = DeploymentFiles.Text("scripts/package.sh");
        Assert.Contains("dotnet publish FunctionApp/FunctionApp.csproj", script, StringComparison.Ordinal);
        Assert.Contains("-o \"$staging/handler\"", script, StringComparison.Ordinal);
        Assert.Contains("-r linux-x64 --self-contained true", script, StringComparison.Ordinal);

        var serviceBus = root.GetProperty("extensions").GetProperty("serviceBus");
        Assert.True(serviceBus.GetProperty("autoCompleteMessages").GetBoolean());
        Assert.True(serviceBus.GetProperty("maxConcurrentCalls").GetInt32() >= 1);
        // The host renews the message lock for as long as a function may run.
        Assert.Equal(root.GetProperty("functionTimeout").GetString(), serviceBus.GetProperty("maxAutoLockRenewalDuration").GetString());
    }

    private static HashSet<string> AllSettingNames() =>
    [
        .. typeof(AppSettingNames).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(field => field.IsLiteral && field.FieldType == typeof(string))
            .Select(field => (string)field.GetRawConstantValue()!),
    ];

    private static string Bicep(string relativePath) => DeploymentFiles.Text(relativePath);

    private static HashSet<string> BicepAppSettingNames()
    {
        var bicep = Bicep(FunctionAppBicep);
        return
        [
            .. DeploymentFiles.BicepObjectKeys(bicep, "identityAppSettings"),
            .. DeploymentFiles.BicepObjectKeys(bicep, "productAppSettings"),
        ];
    }

    private static HashSet<string> LocalSettingNames()
    {
        using var local = DeploymentFiles.Json("local.settings.sample.json");
        return [.. local.RootElement.GetProperty("Values").EnumerateObject().Select(setting => setting.Name)];
    }

    private static List<JsonElement> Bindings(string function)
    {
        using var document = DeploymentFiles.Json(Path.Combine(function, "function.json"));
        return [.. document.RootElement.GetProperty("bindings").EnumerateArray().Select(binding => binding.Clone())];
    }

    private static JsonElement Binding(string function, string name) =>
        Assert.Single(Bindings(function), binding => binding.GetProperty("name").GetString() == name);
}
