using System.Security.Cryptography;
using System.Text;

namespace FunctionApp.Hosting;

/// <summary>
/// The keys the standalone query API accepts in the <c>x-api-key</c> header (setting <c>QueryApi:Keys</c>, comma
/// separated). Only hashes are kept, so every comparison takes the same time whatever the candidate's length.
/// </summary>
public sealed class QueryApiKeys
{
    public const string HeaderName = "x-api-key";

    private readonly byte[][] _keyHashes;

    private QueryApiKeys(byte[][] keyHashes) => _keyHashes = keyHashes;

    /// <summary>False when no key is configured: the standalone query API then answers loopback callers only.</summary>
    public bool AreConfigured => _keyHashes.Length > 0;

    public static QueryApiKeys Read(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return Parse(configuration[AppSettingNames.QueryApiKeys]);
    }

    public static QueryApiKeys Parse(string? commaSeparatedKeys) =>
        new((commaSeparatedKeys ?? string.Empty)
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(key => Hash(SettingValues.Secret(AppSettingNames.QueryApiKeys, key)))
            .ToArray());

    /// <summary>Constant-time check of a presented key against every configured key.</summary>
    public bool Accepts(string? candidate)
    {
        if (string.IsNullOrEmpty(candidate))
        {
            return false;
        }

        var candidateHash = Hash(candidate);
        var accepted = false;
        foreach (var keyHash in _keyHashes)
        {
            // No early exit: the time taken does not reveal which key, if any, matched.
            accepted |= CryptographicOperations.FixedTimeEquals(candidateHash, keyHash);
        }

        return accepted;
    }

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
