using System.Security.Cryptography;
using System.Text;

namespace FunctionApp.Hosting;

/// <summary>
/// The keys the standalone query API accepts in the <c>x-api-key</c> header: <c>QueryApi:Keys</c> (comma separated)
/// read every app; <c>QueryApi:AppKeys:&lt;appId&gt;</c> (comma separated) read that app only; a key may be listed
/// under several apps. Only hashes are kept, so every comparison takes the same time whatever the candidate's length.
/// </summary>
public sealed class QueryApiKeys
{
    public const string HeaderName = "x-api-key";

    private readonly byte[][] _keyHashes;
    private readonly Dictionary<string, byte[][]> _appKeyHashes;

    private QueryApiKeys(byte[][] keyHashes, Dictionary<string, byte[][]> appKeyHashes)
    {
        _keyHashes = keyHashes;
        _appKeyHashes = appKeyHashes;
    }

    /// <summary>False when no key is configured: the standalone query API then answers loopback callers only.</summary>
    public bool AreConfigured => _keyHashes.Length > 0 || _appKeyHashes.Count > 0;

    public static QueryApiKeys Read(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var appKeys = new Dictionary<string, byte[][]>(StringComparer.Ordinal);
        foreach (var app in configuration.GetSection(AppSettingNames.QueryApiAppKeys).GetChildren())
        {
            var hashes = Hashes($"{AppSettingNames.QueryApiAppKeys}:{app.Key}", app.Value);
            if (hashes.Length > 0)
            {
                appKeys[app.Key] = hashes;
            }
        }

        return new QueryApiKeys(Hashes(AppSettingNames.QueryApiKeys, configuration[AppSettingNames.QueryApiKeys]), appKeys);
    }

    public static QueryApiKeys Parse(string? commaSeparatedKeys) =>
        new(Hashes(AppSettingNames.QueryApiKeys, commaSeparatedKeys), new Dictionary<string, byte[][]>(StringComparer.Ordinal));

    private static byte[][] Hashes(string setting, string? commaSeparatedKeys) =>
        (commaSeparatedKeys ?? string.Empty)
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(key => Hash(SettingValues.Secret(setting, key)))
            .ToArray();

    /// <summary>Whether the key may read <paramref name="appId"/>: an unscoped key, or one scoped to that app.</summary>
    public bool Allows(string? candidate, string appId)
    {
        ArgumentNullException.ThrowIfNull(appId);
        return Accepts(candidate, _keyHashes)
            | (_appKeyHashes.TryGetValue(appId, out var appHashes) && Accepts(candidate, appHashes));
    }

    /// <summary>Whether the key is configured at all, unscoped or for any app.</summary>
    public bool Accepts(string? candidate) =>
        Accepts(candidate, _keyHashes) | _appKeyHashes.Values.Aggregate(false, (any, hashes) => any | Accepts(candidate, hashes));

    /// <summary>Constant-time check of a presented key against a set of key hashes.</summary>
    private static bool Accepts(string? candidate, byte[][] keyHashes)
    {
        if (string.IsNullOrEmpty(candidate))
        {
            return false;
        }

        var candidateHash = Hash(candidate);
        var accepted = false;
        foreach (var keyHash in keyHashes)
        {
            // No early exit: the time taken does not reveal which key, if any, matched.
            accepted |= CryptographicOperations.FixedTimeEquals(candidateHash, keyHash);
        }

        return accepted;
    }

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
