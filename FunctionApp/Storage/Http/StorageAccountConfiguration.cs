using Azure.Core;
using Azure.Identity;
using FunctionApp.Hosting;

namespace FunctionApp.Storage.Http;

/// <summary>
/// Reads the storage account from configuration (<see cref="AppSettingNames.RelationshipStorage"/>), the way the Functions
/// host reads identity-based connections: either a connection string value, or a section with <c>tableServiceUri</c>,
/// <c>queueServiceUri</c> (or <c>accountName</c>), <c>credential</c> ("managedidentity") and <c>clientId</c>.
/// </summary>
public static class StorageAccountConfiguration
{
    /// <summary>Microsoft Entra scope of Azure Storage.</summary>
    public const string StorageScope = "https://storage.azure.com/.default";

    /// <param name="credentialOverride">Used instead of the configured identity (tests, or a host that owns its credential).</param>
    public static StorageAccount FromConfiguration(
        IConfiguration configuration,
        string name = AppSettingNames.RelationshipStorage,
        TokenCredential? credentialOverride = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(name);
        if (!string.IsNullOrWhiteSpace(section.Value))
        {
            try
            {
                return StorageConnectionString.Parse(section.Value);
            }
            catch (FormatException ex)
            {
                throw new InvalidOperationException($"Setting '{name}': {ex.Message}", ex);
            }
        }

        var accountName = section["accountName"];
        var tableUri = ServiceUri(section, name, "tableServiceUri", accountName, "table");
        var queueUri = ServiceUri(section, name, "queueServiceUri", accountName, "queue");
        var blobUri = ServiceUri(section, name, "blobServiceUri", accountName, "blob");
        if (tableUri is null && queueUri is null)
        {
            throw new InvalidOperationException(
                $"Setting '{name}' is missing: set it to a storage connection string, or set '{name}:tableServiceUri' and " +
                $"'{name}:queueServiceUri' (or '{name}:accountName') for a managed identity.");
        }

        var credential = credentialOverride ?? CreateCredential(section, name);
        return new StorageAccount(blobUri, queueUri, tableUri, credential);
    }

    private static Uri? ServiceUri(IConfigurationSection section, string name, string key, string? accountName, string service)
    {
        var value = section[key];
        if (string.IsNullOrWhiteSpace(value))
        {
            return string.IsNullOrWhiteSpace(accountName) ? null : new Uri($"https://{accountName}.{service}.core.windows.net");
        }

        return Uri.TryCreate(value.TrimEnd('/'), UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps
            ? uri
            : throw new InvalidOperationException($"Setting '{name}:{key}' must be an absolute https URI (tokens are only sent over TLS).");
    }

    private static TokenCredential CreateCredential(IConfigurationSection section, string name)
    {
        var clientId = section["clientId"];
        var kind = section["credential"];
        if (string.Equals(kind, "managedidentity", StringComparison.OrdinalIgnoreCase))
        {
            return new ManagedIdentityCredential(string.IsNullOrWhiteSpace(clientId)
                ? ManagedIdentityId.SystemAssigned
                : ManagedIdentityId.FromUserAssignedClientId(clientId));
        }

        if (!string.IsNullOrWhiteSpace(kind))
        {
            throw new InvalidOperationException($"Setting '{name}:credential' must be 'managedidentity' or absent.");
        }

        var options = new DefaultAzureCredentialOptions();
        if (!string.IsNullOrWhiteSpace(clientId))
        {
            options.ManagedIdentityClientId = clientId;
        }

        return new DefaultAzureCredential(options);
    }
}
