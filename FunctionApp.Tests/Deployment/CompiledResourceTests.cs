using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml;
using FunctionApp.Hosting;

namespace FunctionApp.Tests.Deployment;

/// <summary>
/// What the compiled template deploys: storage and Service Bus without keys, the queue's delivery settings, the
/// Flex Consumption custom-handler app, the names the app expects, the parameters file and the outputs the README
/// names.
/// </summary>
[Collection(CompiledTemplatesCollection.Name)]
public sealed partial class CompiledResourceTests(CompiledTemplates templates)
{
    [Fact]
    public void Reconciliation_schedule_defaults_to_the_apps_own_default()
    {
        Assert.Equal(ReconciliationHosting.DefaultSchedule,
            templates.Main.Parameter("reconciliationSchedule").GetProperty("defaultValue").GetString());
    }

    [Fact]
    public void Storage_accepts_only_entra_id_over_tls_1_2()
    {
        var storage = templates.Main.Module("storage");
        var account = storage.Resource("Microsoft.Storage/storageAccounts").Properties;
        Assert.False(account.GetProperty("allowSharedKeyAccess").GetBoolean());
        Assert.True(account.GetProperty("defaultToOAuthAuthentication").GetBoolean());
        Assert.Equal("TLS1_2", account.GetProperty("minimumTlsVersion").GetString());
        Assert.True(account.GetProperty("supportsHttpsTrafficOnly").GetBoolean());
        Assert.False(account.GetProperty("allowBlobPublicAccess").GetBoolean());

        var container = storage.Resource("Microsoft.Storage/storageAccounts/blobServices/containers").Properties;
        Assert.Equal("None", container.GetProperty("publicAccess").GetString());
    }

    [Fact]
    public void Service_bus_has_local_auth_off()
    {
        var serviceBus = templates.Main.Module("serviceBus");
        var namespaceProperties = serviceBus.Resource("Microsoft.ServiceBus/namespaces").Properties;
        Assert.True(namespaceProperties.GetProperty("disableLocalAuth").GetBoolean());
        Assert.Equal("1.2", namespaceProperties.GetProperty("minimumTlsVersion").GetString());
    }

    [Fact]
    public void Queue_detects_duplicates_over_the_window_parameter_and_dead_letters()
    {
        var queue = templates.Main.Module("serviceBus").Resource("Microsoft.ServiceBus/namespaces/queues").Properties;
        Assert.True(queue.GetProperty("requiresDuplicateDetection").GetBoolean());
        Assert.True(queue.GetProperty("deadLetteringOnMessageExpiration").GetBoolean());
        Assert.False(queue.GetProperty("requiresSession").GetBoolean());

        // Each delivery setting comes from main's queueSettings parameter, whose default states it.
        Assert.Equal("[parameters('queueSettings')]", templates.Main.ModuleArgument("serviceBus", "queueSettings").GetString());
        var defaults = templates.Main.Parameter("queueSettings").GetProperty("defaultValue");
        Assert.Equal("[parameters('queueSettings').duplicateDetectionHistoryTimeWindow]", queue.GetProperty("duplicateDetectionHistoryTimeWindow").GetString());
        Assert.Equal("[parameters('queueSettings').maxDeliveryCount]", queue.GetProperty("maxDeliveryCount").GetString());
        Assert.Equal("[parameters('queueSettings').lockDuration]", queue.GetProperty("lockDuration").GetString());
        Assert.Equal("[parameters('queueSettings').messageTimeToLive]", queue.GetProperty("defaultMessageTimeToLive").GetString());

        // Service Bus allows a window of 20 seconds to 7 days and a lock of at most 5 minutes.
        var window = XmlConvert.ToTimeSpan(defaults.GetProperty("duplicateDetectionHistoryTimeWindow").GetString()!);
        Assert.InRange(window, TimeSpan.FromSeconds(20), TimeSpan.FromDays(7));
        Assert.InRange(XmlConvert.ToTimeSpan(defaults.GetProperty("lockDuration").GetString()!), TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5));
        Assert.True(XmlConvert.ToTimeSpan(defaults.GetProperty("messageTimeToLive").GetString()!) > window);
        Assert.InRange(defaults.GetProperty("maxDeliveryCount").GetInt32(), 2, 2000);
    }

    [Fact]
    public void Function_app_is_a_flex_consumption_custom_handler()
    {
        var app = templates.Main.Module("functionApp");
        var plan = app.Resource("Microsoft.Web/serverfarms").Element;
        Assert.Equal("FlexConsumption", plan.GetProperty("sku").GetProperty("tier").GetString());
        Assert.Equal("FC1", plan.GetProperty("sku").GetProperty("name").GetString());

        var site = app.Resource("Microsoft.Web/sites");
        Assert.Equal("functionapp,linux", site.Element.GetProperty("kind").GetString());
        var functionAppConfig = site.Properties.GetProperty("functionAppConfig");
        Assert.Equal("custom", functionAppConfig.GetProperty("runtime").GetProperty("name").GetString());

        // The package is read with the identity, not a key.
        var deployment = functionAppConfig.GetProperty("deployment").GetProperty("storage");
        Assert.Equal("blobContainer", deployment.GetProperty("type").GetString());
        Assert.Equal("UserAssignedIdentity", deployment.GetProperty("authentication").GetProperty("type").GetString());
        Assert.Equal("[parameters('identityResourceId')]", deployment.GetProperty("authentication").GetProperty("userAssignedIdentityResourceId").GetString());
    }

    [Fact]
    public void Always_ready_instances_cover_the_http_group_and_the_apply_function()
    {
        var app = templates.Main.Module("functionApp");
        var scale = app.Resource("Microsoft.Web/sites").Properties.GetProperty("functionAppConfig").GetProperty("scaleAndConcurrency");
        var variable = Assert.Single(ArmTemplate.VariablesReadBy(scale.GetProperty("alwaysReady").GetString()!));
        var groups = AlwaysReadyGroup().Matches(app.Variable(variable).GetString()!)
            .ToDictionary(match => match.Groups["name"].Value, match => match.Groups["count"].Value);

        // Flex Consumption names the HTTP group "http" and a single function "function:<name>".
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["http"] = "parameters('alwaysReady').http",
                ["function:ApplyRelationshipEvents"] = "parameters('alwaysReady').apply",
            },
            groups);
        Assert.Contains("ApplyRelationshipEvents", DeploymentFiles.FunctionFolders());
        Assert.Equal("[parameters('alwaysReady')]", templates.Main.ModuleArgument("functionApp", "alwaysReady").GetString());

        // The deployment's parameters keep one HTTP instance warm: Tencent gives up on a callback after 2 s.
        var alwaysReady = templates.Parameters.GetProperty("alwaysReady").GetProperty("value");
        Assert.True(alwaysReady.GetProperty("http").GetInt32() >= 1);
    }

    [Fact]
    public void Site_is_https_only_without_ftp_or_basic_auth_publishing()
    {
        var app = templates.Main.Module("functionApp");
        var site = app.Resource("Microsoft.Web/sites").Properties;
        Assert.True(site.GetProperty("httpsOnly").GetBoolean());
        var siteConfig = site.GetProperty("siteConfig");
        Assert.Equal("Disabled", siteConfig.GetProperty("ftpsState").GetString());
        Assert.Equal("1.2", siteConfig.GetProperty("minTlsVersion").GetString());
        Assert.Equal("1.2", siteConfig.GetProperty("scmMinTlsVersion").GetString());

        var policies = app.ResourcesOf("Microsoft.Web/sites/basicPublishingCredentialsPolicies");
        Assert.Equal(["ftp", "scm"], policies.Select(policy => PolicyName().Match(policy.Name).Groups["name"].Value).Order(StringComparer.Ordinal));
        Assert.All(policies, policy => Assert.False(policy.Properties.GetProperty("allow").GetBoolean()));
    }

    [Fact]
    public void Every_allow_list_becomes_rules_of_its_own_priority_range_and_any_rule_denies_the_rest()
    {
        var app = templates.Main.Module("functionApp");
        var lists = app.DefinitionOf(app.Parameter("inboundAllowList")).GetProperty("properties").EnumerateObject()
            .ToDictionary(list => list.Name, list => list.Value.GetProperty("maxLength").GetInt32(), StringComparer.Ordinal);
        Assert.Equal(["openIm", "queries", "tencent"], lists.Keys.Order(StringComparer.Ordinal));

        var rules = AllowRulesFor().Matches(app.Variable("allowRules").GetString()!)
            .Select(match => (Purpose: match.Groups["purpose"].Value, First: int.Parse(match.Groups["first"].Value, System.Globalization.CultureInfo.InvariantCulture), List: match.Groups["list"].Value))
            .ToList();
        // Each list exactly once, under a name of its own, in priority ranges that cannot overlap at the lists' most.
        Assert.Equal(lists.Keys.Order(StringComparer.Ordinal), rules.Select(rule => rule.List).Order(StringComparer.Ordinal));
        Assert.Equal(rules.Count, rules.Select(rule => rule.Purpose).Distinct(StringComparer.Ordinal).Count());
        var ranges = rules.Select(rule => (rule.First, Last: rule.First + lists[rule.List] - 1)).OrderBy(range => range.First).ToList();
        Assert.All(ranges.Zip(ranges.Skip(1)), pair => Assert.True(pair.First.Last < pair.Second.First, $"Priorities {pair.First} and {pair.Second} overlap."));
        Assert.True(ranges[^1].Last <= 65000, "App Service priorities go up to 65000.");

        var function = app.Root.GetProperty("functions")[0].GetProperty("members").GetProperty("allowRulesFor").GetProperty("output").GetProperty("value").GetString()!;
        Assert.Contains("'action', 'Allow'", function, StringComparison.Ordinal);
        // GetIPList returns bare addresses as well as ranges; a bare one is taken as a single host.
        Assert.Contains("if(contains(parameters('addresses')[lambdaVariables('i')], ':'), 128, 32)", function, StringComparison.Ordinal);

        var siteConfig = app.Resource("Microsoft.Web/sites").Properties.GetProperty("siteConfig");
        Assert.Equal("[variables('allowRules')]", siteConfig.GetProperty("ipSecurityRestrictions").GetString());
        Assert.Equal("[if(empty(variables('allowRules')), 'Allow', 'Deny')]", siteConfig.GetProperty("ipSecurityRestrictionsDefaultAction").GetString());
        Assert.Equal("[parameters('inboundAllowList')]", templates.Main.ModuleArgument("functionApp", "inboundAllowList").GetString());
        Assert.Contains("v4/ConfigSvc/GetIPList", BicepCompilationTests.DeploySection(), StringComparison.Ordinal);
    }

    [Fact]
    public void Tencent_skew_window_defaults_to_30_seconds_in_main_and_the_app_module()
    {
        // A signed Tencent URL can be replayed with any body within this window, so the default stays narrow.
        Assert.Equal(30, templates.Main.Parameter("tencentMaxClockSkewSeconds").GetProperty("defaultValue").GetInt32());
        Assert.Equal(30, templates.Main.Module("functionApp").Parameter("tencentMaxClockSkewSeconds").GetProperty("defaultValue").GetInt32());
        Assert.Equal("[parameters('tencentMaxClockSkewSeconds')]", templates.Main.ModuleArgument("functionApp", "tencentMaxClockSkewSeconds").GetString());
        Assert.False(templates.Parameters.TryGetProperty("tencentMaxClockSkewSeconds", out _), "main.bicepparam widens the skew window.");
    }

    [Fact]
    public void Template_reads_no_key_and_holds_no_secret()
    {
        var compiled = templates.Main.Root.GetRawText();
        Assert.DoesNotContain("listKeys(", compiled, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("listSecrets(", compiled, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("AccountKey=", compiled, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("SharedAccessKey", compiled, StringComparison.OrdinalIgnoreCase);
        Assert.True(templates.Main.Module("monitoring").Resource("Microsoft.Insights/components").Properties.GetProperty("DisableLocalAuth").GetBoolean());
    }

    [Fact]
    public void Queue_name_agrees_between_app_template_and_parameters_file()
    {
        var queue = ResourceNames.DefaultRelationshipEventsQueue;
        Assert.Equal(queue, templates.Main.Parameter("relationshipEventsQueueName").GetProperty("defaultValue").GetString());
        Assert.Equal(queue, templates.Parameters.GetProperty("relationshipEventsQueueName").GetProperty("value").GetString());
        Assert.Equal("[parameters('relationshipEventsQueueName')]", templates.Main.ModuleArgument("serviceBus", "queueName").GetString());
        var queueResource = templates.Main.Module("serviceBus").Resource("Microsoft.ServiceBus/namespaces/queues");
        Assert.EndsWith("parameters('queueName'))]", queueResource.Name, StringComparison.Ordinal);
    }

    [Fact]
    public void Tables_are_the_ones_the_app_uses()
    {
        Assert.Equal(ResourceNames.Tables, templates.Main.Variable("relationshipTables").EnumerateArray().Select(table => table.GetString()));
        Assert.Equal("[variables('relationshipTables')]", templates.Main.ModuleArgument("storage", "tableNames").GetString());
        var tables = templates.Main.Module("storage").Resource("Microsoft.Storage/storageAccounts/tableServices/tables").Element;
        Assert.Equal("[length(parameters('tableNames'))]", tables.GetProperty("copy").GetProperty("count").GetString());
        Assert.Contains("parameters('tableNames')[copyIndex()]", tables.GetProperty("name").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Parameters_file_reads_the_secrets_from_the_environment_the_readme_sets()
    {
        // Unset, each optional secret falls back to its empty default; set, each lands in its parameter.
        Assert.Empty(templates.Parameters.GetProperty("tencentCallbackTokens").GetProperty("value").EnumerateObject());
        Assert.Equal("", templates.Parameters.GetProperty("operatorPrincipalId").GetProperty("value").GetString());
        Assert.Empty(templates.Parameters.GetProperty("tencentReconcileApps").GetProperty("value").EnumerateObject());
        Assert.Equal("", templates.Parameters.GetProperty("openImAdminSecret").GetProperty("value").GetString());
        Assert.Equal(
            CompiledTemplates.SecretVariables[CompiledTemplates.RequiredSecretVariable],
            templates.Parameters.GetProperty("openImCallbackKey").GetProperty("value").GetString());

        var withSecrets = templates.ParametersWithSecrets;
        var tokens = withSecrets.GetProperty("tencentCallbackTokens").GetProperty("value");
        Assert.Equal(
            JsonSerializer.Deserialize<Dictionary<string, string>>(CompiledTemplates.SecretVariables["TENCENT_CALLBACK_TOKENS"]),
            tokens.EnumerateObject().ToDictionary(token => token.Name, token => token.Value.GetString()!));
        Assert.Equal(CompiledTemplates.SecretVariables["OPENIM_CALLBACK_KEY"], withSecrets.GetProperty("openImCallbackKey").GetProperty("value").GetString());
        Assert.Equal(CompiledTemplates.SecretVariables["OPERATOR_PRINCIPAL_ID"], withSecrets.GetProperty("operatorPrincipalId").GetProperty("value").GetString());
        Assert.Equal(CompiledTemplates.SecretVariables["OPENIM_ADMIN_SECRET"], withSecrets.GetProperty("openImAdminSecret").GetProperty("value").GetString());
        using var reconcileApps = JsonDocument.Parse(CompiledTemplates.SecretVariables["TENCENT_RECONCILE_APPS"]);
        Assert.True(JsonElement.DeepEquals(reconcileApps.RootElement, withSecrets.GetProperty("tencentReconcileApps").GetProperty("value")));

        var deploy = BicepCompilationTests.DeploySection();
        Assert.All(CompiledTemplates.SecretVariables.Keys, variable => Assert.Contains($"{variable}=", deploy, StringComparison.Ordinal));
        Assert.Contains($"--parameters {CompiledTemplates.ParametersFile}", deploy, StringComparison.Ordinal);
    }

    [Fact]
    public void Outputs_are_the_ones_the_readme_names()
    {
        var outputs = templates.Main.Outputs.EnumerateObject().ToList();
        Assert.All(outputs, output => Assert.Equal("string", output.Value.GetProperty("type").GetString()));
        var names = outputs.Select(output => output.Name).Order(StringComparer.Ordinal).ToList();

        var deploy = BicepCompilationTests.DeploySection();
        var sentence = OutputsSentence().Match(deploy);
        Assert.True(sentence.Success, "README Deploy has no sentence 'The outputs are `A`, ... and `B`.'");
        var documented = BacktickedName().Matches(sentence.Groups["list"].Value).Select(match => match.Groups["name"].Value);
        Assert.Equal(names, documented.Order(StringComparer.Ordinal));

        // Every output the README's commands read exists.
        Assert.All(OutputRead().Matches(deploy).Select(match => match.Groups["name"].Value), name => Assert.Contains(name, names));
    }

    [GeneratedRegex(@"createObject\('name', '(?<name>[^']+)', 'instanceCount', (?<count>parameters\('\w+'\)\.\w+)\)")]
    private static partial Regex AlwaysReadyGroup();

    [GeneratedRegex(@"__bicep\.allowRulesFor\('(?<purpose>[a-z]+)', (?<first>\d+), parameters\('inboundAllowList'\)\.(?<list>\w+)\)")]
    private static partial Regex AllowRulesFor();

    [GeneratedRegex(@"'(?<name>[^']+)'\)\]$")]
    private static partial Regex PolicyName();

    [GeneratedRegex(@"The outputs are (?<list>[^.]+)\.")]
    private static partial Regex OutputsSentence();

    [GeneratedRegex(@"`(?<name>[A-Z][A-Z0-9_]*)`")]
    private static partial Regex BacktickedName();

    [GeneratedRegex(@"\$\(out (?<name>[A-Z][A-Z0-9_]*)\)")]
    private static partial Regex OutputRead();
}
