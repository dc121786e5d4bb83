using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using FunctionApp.Hosting;
using FunctionApp.Messaging;
using Microsoft.Extensions.Configuration;

namespace FunctionApp.Tests.Deployment;

/// <summary>
/// Keeps configuration and resource names in step across the app's constants, <c>host.json</c>, the function
/// folders and <c>local.settings.sample.json</c>. What the Bicep templates set is checked on their compiled form
/// (<see cref="CompiledAppSettingsTests"/> and the other compiled-template tests).
/// </summary>
public class DeploymentSettingsTests
{
    [Fact]
    public void Every_exception_names_a_current_setting()
    {
        Assert.All(FunctionsModeSettings.NotSetInFunctionsMode.Keys, name => Assert.Contains(name, FunctionsModeSettings.AllNames));
        Assert.NotEmpty(FunctionsModeSettings.Names);
    }

    public static TheoryData<string> SettingsFunctionsModeReads() => FunctionsModeSettings.NamesAsTheoryData();

    [Theory]
    [MemberData(nameof(SettingsFunctionsModeReads))]
    public void Setting_is_present_in_local_settings(string name)
    {
        var environmentName = FunctionsModeSettings.EnvironmentName(name);
        var localNames = LocalSettingNames();

        if (name == AppSettingNames.TencentApps)
        {
            // One setting per SdkAppid.
            var pattern = "^" + Regex.Escape(FunctionsModeSettings.TencentAppTokenPattern).Replace(@"\{0}", "[0-9]+", StringComparison.Ordinal) + "$";
            Assert.Contains(localNames, local => Regex.IsMatch(local, pattern));
            return;
        }

        if (name == AppSettingNames.ReconciliationTencentApps)
        {
            // One set of settings per reconciled SdkAppid.
            Assert.Contains(localNames, local => Regex.IsMatch(
                local, $"^{environmentName}__[0-9]+__{AppSettingNames.ReconciliationSecretKeyKey}$"));
            return;
        }

        Assert.Contains(environmentName, localNames);
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

        // func start with the sample as it is must not stop at the unsigned-callback or key-length checks.
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(values.EnumerateObject().Select(setting =>
                KeyValuePair.Create(setting.Name.Replace("__", ":", StringComparison.Ordinal), setting.Value.GetString())))
            .Build();
        Assert.Empty(ProtocolConfiguration.Read(configuration).Warnings);
    }

    [Fact]
    public void Queue_name_agrees_across_app_local_settings_and_bindings()
    {
        var queue = ResourceNames.DefaultRelationshipEventsQueue;
        using var local = DeploymentFiles.Json("local.settings.sample.json");
        Assert.Equal(queue, local.RootElement.GetProperty("Values").GetProperty(AppSettingNames.RelationshipEventsQueue).GetString());

        // The handler sends to the queue the app setting names, on the connection the trigger receives on, so one
        // setting moves both ends.
        var bindingQueue = $"%{AppSettingNames.RelationshipEventsQueue}%";
        var trigger = Binding("ApplyRelationshipEvents", "message");
        Assert.Equal(bindingQueue, trigger.GetProperty("queueName").GetString());
        Assert.Equal(AppSettingNames.ServiceBusConnection, trigger.GetProperty("connection").GetString());
    }

    [Fact]
    public void The_standalone_service_bus_drain_receives_as_host_json_has_the_trigger_receive()
    {
        using var host = DeploymentFiles.Json("host.json");
        var serviceBus = host.RootElement.GetProperty("extensions").GetProperty("serviceBus");
        var drain = new ServiceBusQueueDrainOptions();

        Assert.Equal(serviceBus.GetProperty("maxConcurrentCalls").GetInt32(), drain.MaxConcurrentCalls);
        Assert.Equal(TimeSpan.Parse(serviceBus.GetProperty("maxAutoLockRenewalDuration").GetString()!, CultureInfo.InvariantCulture), drain.MaxLockRenewal);
        // Neither prefetches: a prefetched batch waits with its lock running and nothing renewing it.
        Assert.Equal(0, serviceBus.GetProperty("prefetchCount").GetInt32());
    }

    [Fact]
    public async Task Local_settings_point_the_handler_and_the_trigger_at_the_service_bus_emulator()
    {
        using var local = DeploymentFiles.Json("local.settings.sample.json");
        var connection = local.RootElement.GetProperty("Values").GetProperty(AppSettingNames.ServiceBusConnection).GetString()!;
        Assert.Contains("UseDevelopmentEmulator=true", connection, StringComparison.Ordinal);

        // The handler's own reading of the setting (the trigger reads the same value) accepts it.
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([KeyValuePair.Create(AppSettingNames.ServiceBusConnection, (string?)connection)])
            .Build();
        await using var client = ServiceBusConnection.CreateClient(configuration);
        Assert.Equal("localhost", client.FullyQualifiedNamespace);
    }

    public static TheoryData<string, string, string, string, string> HttpFunctions() => new()
    {
        { "ReceiveCallback", "post", "callbacks/{platform}/{*rest}", "anonymous", "" },
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

/// <summary>What the Functions host's own telemetry records: no request URLs or dependency calls carrying keys.</summary>
public class TelemetrySettingsTests
{
    [Fact]
    public void Host_json_turns_off_the_tracking_that_records_urls_with_keys()
    {
        using var host = DeploymentFiles.Json("host.json");
        var insights = host.RootElement.GetProperty("logging").GetProperty("applicationInsights");

        // The host's forward to the handler is an HTTP dependency whose URL holds the OpenIM key segment and code=.
        Assert.False(insights.GetProperty("enableDependencyTracking").GetBoolean());

        // With extended collection on, ASP.NET Core request tracking records the full URL with its query string;
        // off, the host names each request after its function and records no URL.
        Assert.False(insights.GetProperty("httpAutoCollectionOptions").GetProperty("enableHttpTriggerExtendedInfoCollection").GetBoolean());
    }
}
