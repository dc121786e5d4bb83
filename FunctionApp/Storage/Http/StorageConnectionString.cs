namespace FunctionApp.Storage.Http;

/// <summary>
/// Parses Azure Storage connection strings: <c>UseDevelopmentStorage=true</c>, account name and key with
/// <c>DefaultEndpointsProtocol</c>/<c>EndpointSuffix</c>, and explicit <c>BlobEndpoint</c>/<c>QueueEndpoint</c>/<c>TableEndpoint</c>
/// (Azurite's path-style endpoints such as <c>http://127.0.0.1:10002/devstoreaccount1</c>).
/// Error messages name the faulty part, never a value, so a key cannot leak into a log.
/// </summary>
public static class StorageConnectionString
{
    /// <summary>Azurite's well-known development account (public, documented by Microsoft).</summary>
    public const string DevelopmentAccountName = "devstoreaccount1";

    public const string DevelopmentAccountKey =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    public static StorageAccount Parse(string connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new FormatException("The storage connection string is empty.");
        }

        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var segments = connectionString.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < segments.Length; i++)
        {
            var equals = segments[i].IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new FormatException(
                    $"The storage connection string is malformed: part {i + 1} is not a name=value pair.");
            }

            var name = segments[i][..equals].Trim();
            if (!settings.TryAdd(name, segments[i][(equals + 1)..].Trim()))
            {
                throw new FormatException($"The storage connection string names '{SafeName(name)}' twice.");
            }
        }

        if (settings.TryGetValue("UseDevelopmentStorage", out var development))
        {
            if (!string.Equals(development, "true", StringComparison.OrdinalIgnoreCase))
            {
                throw new FormatException("The storage connection string has UseDevelopmentStorage set to something other than true.");
            }

            return new StorageAccount(
                new Uri($"http://127.0.0.1:10000/{DevelopmentAccountName}"),
                new Uri($"http://127.0.0.1:10001/{DevelopmentAccountName}"),
                new Uri($"http://127.0.0.1:10002/{DevelopmentAccountName}"),
                new StorageSharedKey(DevelopmentAccountName, DevelopmentAccountKey));
        }

        if (settings.ContainsKey("SharedAccessSignature"))
        {
            throw new FormatException(
                "The storage connection string uses a shared access signature, which this app does not support: use an account key or a managed identity.");
        }

        var accountName = Required(settings, "AccountName");
        var accountKey = Required(settings, "AccountKey");
        var protocol = settings.GetValueOrDefault("DefaultEndpointsProtocol", "https");
        if (protocol is not ("https" or "http"))
        {
            throw new FormatException("The storage connection string's DefaultEndpointsProtocol must be https or http.");
        }

        var suffix = settings.GetValueOrDefault("EndpointSuffix", "core.windows.net");
        Uri Endpoint(string settingName, string service) =>
            settings.TryGetValue(settingName, out var explicitUri)
                ? ParseUri(explicitUri, settingName)
                : ParseUri($"{protocol}://{accountName}.{service}.{suffix}", "EndpointSuffix");

        return new StorageAccount(
            Endpoint("BlobEndpoint", "blob"),
            Endpoint("QueueEndpoint", "queue"),
            Endpoint("TableEndpoint", "table"),
            new StorageSharedKey(accountName, accountKey));
    }

    private static string Required(Dictionary<string, string> settings, string name) =>
        settings.TryGetValue(name, out var value) && value.Length > 0
            ? value
            : throw new FormatException($"The storage connection string lacks {name}.");

    private static Uri ParseUri(string value, string settingName) =>
        Uri.TryCreate(value.TrimEnd('/'), UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
            ? uri
            : throw new FormatException($"The storage connection string's {settingName} is not an absolute http(s) URI.");

    // A name is not secret, but a malformed string might have a key where a name should be: cap and strip it.
    private static string SafeName(string name) => name.Length <= 32 && name.All(char.IsAsciiLetter) ? name : "(unnamed)";
}
