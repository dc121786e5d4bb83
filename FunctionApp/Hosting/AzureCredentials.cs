using Azure.Core;
using Microsoft.Extensions.Azure;

namespace FunctionApp.Hosting;

/// <summary>
/// Identity settings read the way the Functions host reads them: a connection's section (<c>credential</c>,
/// <c>clientId</c>, <c>tenantId</c>, ...) becomes a <see cref="TokenCredential"/> through Microsoft.Extensions.Azure's
/// <see cref="AzureComponentFactory"/>, the parser the host itself uses, for every connection the handler opens.
/// </summary>
internal static class AzureCredentials
{
    // The factory lives behind DI; clients are needed while services are still being registered (a malformed setting
    // must stop startup), so this process-wide provider holds only that factory.
    private static readonly Lazy<AzureComponentFactory> ComponentFactory = new(() =>
    {
        var services = new ServiceCollection();
        services.AddAzureClientsCore();
        return services.BuildServiceProvider().GetRequiredService<AzureComponentFactory>();
    });

    public static TokenCredential FromSection(IConfigurationSection section) => ComponentFactory.Value.CreateTokenCredential(section);
}
