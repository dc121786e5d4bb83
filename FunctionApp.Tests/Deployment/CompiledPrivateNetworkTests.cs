using System.Text.Json;

namespace FunctionApp.Tests.Deployment;

/// <summary>
/// The optional private network (<c>vnetEnabled</c>): the app's outbound traffic through a delegated subnet, a
/// private endpoint and DNS zone for each of Storage (blob, queue, table), Service Bus and Key Vault, public network
/// access off on all three, and the app itself still public for the platforms' callbacks.
/// </summary>
[Collection(CompiledTemplatesCollection.Name)]
public sealed class CompiledPrivateNetworkTests(CompiledTemplates templates)
{
    private const string VnetEnabled = "[parameters('vnetEnabled')]";

    [Fact]
    public void Network_is_off_by_default_and_deployed_only_when_enabled()
    {
        var vnetEnabled = templates.Main.Parameter("vnetEnabled");
        Assert.Equal("bool", vnetEnabled.GetProperty("type").GetString());
        Assert.False(vnetEnabled.GetProperty("defaultValue").GetBoolean());
        Assert.False(templates.Parameters.GetProperty("vnetEnabled").GetProperty("value").GetBoolean());
        Assert.Equal(VnetEnabled, templates.Main.ModuleDeployment("network").Condition);
    }

    [Theory]
    [InlineData("storage", "Microsoft.Storage/storageAccounts", true)]
    [InlineData("serviceBus", "Microsoft.ServiceBus/namespaces", false)]
    [InlineData("keyVault", "Microsoft.KeyVault/vaults", true)]
    public void Public_network_access_is_off_when_the_network_is_on(string module, string type, bool hasNetworkAcls)
    {
        Assert.Equal(VnetEnabled, templates.Main.ModuleArgument(module, "privateNetworkOnly").GetString());
        var properties = templates.Main.Module(module).Resource(type).Properties;
        Assert.Equal("[if(parameters('privateNetworkOnly'), 'Disabled', 'Enabled')]", properties.GetProperty("publicNetworkAccess").GetString());
        if (hasNetworkAcls)
        {
            var acls = properties.GetProperty("networkAcls");
            Assert.Equal("[if(parameters('privateNetworkOnly'), 'Deny', 'Allow')]", acls.GetProperty("defaultAction").GetString());
            Assert.Equal("[if(parameters('privateNetworkOnly'), 'None', 'AzureServices')]", acls.GetProperty("bypass").GetString());
        }
    }

    [Fact]
    public void Service_bus_is_premium_when_the_network_is_on()
    {
        // Standard namespaces have no private endpoints.
        Assert.Equal("[variables('effectiveServiceBusSku')]", templates.Main.ModuleArgument("serviceBus", "skuName").GetString());
        Assert.Equal("[if(parameters('vnetEnabled'), 'Premium', parameters('serviceBusSku'))]", templates.Main.Variable("effectiveServiceBusSku").GetString());
    }

    [Fact]
    public void Every_service_the_app_calls_has_a_private_endpoint_and_dns_zone()
    {
        var network = templates.Main.Module("network");
        var endpoints = network.Variable("privateEndpoints").EnumerateArray().ToList();
        Assert.Equal(
            [
                ("Microsoft.KeyVault/vaults", "[parameters('keyVaultName')]", "vault", "privatelink.vaultcore.azure.net"),
                ("Microsoft.ServiceBus/namespaces", "[parameters('serviceBusNamespaceName')]", "namespace", "privatelink.servicebus.windows.net"),
                ("Microsoft.Storage/storageAccounts", "[parameters('storageAccountName')]", "blob", "[format('privatelink.blob.{0}', environment().suffixes.storage)]"),
                ("Microsoft.Storage/storageAccounts", "[parameters('storageAccountName')]", "queue", "[format('privatelink.queue.{0}', environment().suffixes.storage)]"),
                ("Microsoft.Storage/storageAccounts", "[parameters('storageAccountName')]", "table", "[format('privatelink.table.{0}', environment().suffixes.storage)]"),
            ],
            endpoints.Select(endpoint => (Text(endpoint, "serviceType"), Text(endpoint, "serviceName"), Text(endpoint, "groupId"), Text(endpoint, "dnsZone"))).Order());

        // The endpoints attach to the resources this deployment names.
        Assert.Equal("[variables('names').storage]", templates.Main.ModuleArgument("network", "storageAccountName").GetString());
        Assert.Equal("[variables('names').serviceBus]", templates.Main.ModuleArgument("network", "serviceBusNamespaceName").GetString());
        Assert.Equal("[variables('names').keyVault]", templates.Main.ModuleArgument("network", "keyVaultName").GetString());

        // One endpoint, zone, zone link and DNS record group per entry.
        foreach (var type in new[]
        {
            "Microsoft.Network/privateEndpoints",
            "Microsoft.Network/privateDnsZones",
            "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
            "Microsoft.Network/privateEndpoints/privateDnsZoneGroups",
        })
        {
            var resource = network.Resource(type);
            Assert.Equal("[length(variables('privateEndpoints'))]", resource.Element.GetProperty("copy").GetProperty("count").GetString());
        }

        var connection = Assert.Single(network.Resource("Microsoft.Network/privateEndpoints").Properties.GetProperty("privateLinkServiceConnections").EnumerateArray()).GetProperty("properties");
        Assert.Equal("[resourceId(variables('privateEndpoints')[copyIndex()].serviceType, variables('privateEndpoints')[copyIndex()].serviceName)]", connection.GetProperty("privateLinkServiceId").GetString());
        Assert.Equal("[variables('privateEndpoints')[copyIndex()].groupId]", Assert.Single(connection.GetProperty("groupIds").EnumerateArray()).GetString());
        var zoneRecord = Assert.Single(network.Resource("Microsoft.Network/privateEndpoints/privateDnsZoneGroups").Properties.GetProperty("privateDnsZoneConfigs").EnumerateArray());
        Assert.Equal("[resourceId('Microsoft.Network/privateDnsZones', variables('privateEndpoints')[copyIndex()].dnsZone)]", zoneRecord.GetProperty("properties").GetProperty("privateDnsZoneId").GetString());
        Assert.Equal("[format('{0}/{1}', variables('privateEndpoints')[copyIndex()].dnsZone, parameters('name'))]", network.Resource("Microsoft.Network/privateDnsZones/virtualNetworkLinks").Name);
    }

    [Fact]
    public void App_sends_its_traffic_through_the_delegated_subnet_and_stays_public()
    {
        var network = templates.Main.Module("network");
        var subnets = network.Resource("Microsoft.Network/virtualNetworks").Properties.GetProperty("subnets").EnumerateArray().ToList();
        var app = Assert.Single(subnets, subnet => Text(subnet, "name") == "app");
        var delegation = Assert.Single(app.GetProperty("properties").GetProperty("delegations").EnumerateArray());
        Assert.Equal("Microsoft.App/environments", delegation.GetProperty("properties").GetProperty("serviceName").GetString());
        var endpointSubnet = Assert.Single(subnets, subnet => Text(subnet, "name") == "private-endpoints");
        Assert.NotEqual(Text(app.GetProperty("properties"), "addressPrefix"), Text(endpointSubnet.GetProperty("properties"), "addressPrefix"));
        Assert.Equal("[resourceId('Microsoft.Network/virtualNetworks/subnets', parameters('name'), 'app')]", network.Outputs.GetProperty("appSubnetId").GetProperty("value").GetString());

        Assert.Equal(
            "[coalesce(tryGet(if(parameters('vnetEnabled'), reference('network'), null()), 'outputs', 'appSubnetId', 'value'), '')]",
            templates.Main.ModuleArgument("functionApp", "virtualNetworkSubnetId").GetString());
        var site = templates.Main.Module("functionApp").Resource("Microsoft.Web/sites").Properties;
        Assert.Equal("[if(empty(parameters('virtualNetworkSubnetId')), null(), parameters('virtualNetworkSubnetId'))]", site.GetProperty("virtualNetworkSubnetId").GetString());
        // The platforms call in over the internet, so the app keeps its public endpoint; the README says so.
        Assert.Equal("Enabled", site.GetProperty("publicNetworkAccess").GetString());
        Assert.Contains("callback endpoint stays public", BicepCompilationTests.DeploySection(), StringComparison.Ordinal);
    }

    private static string Text(JsonElement element, string property) => element.GetProperty(property).GetString()!;
}
