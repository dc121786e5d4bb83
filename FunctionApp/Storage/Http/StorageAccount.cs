using System.Security.Cryptography;
using System.Text;
using Azure.Core;

namespace FunctionApp.Storage.Http;

/// <summary>The storage services an account offers that this app talks to.</summary>
public enum StorageService
{
    Blob,
    Queue,
    Table,
}

/// <summary>An account name and its shared key; signs strings for SharedKey and SharedKeyLite authorization.</summary>
public sealed class StorageSharedKey
{
    private readonly byte[] _key;

    public StorageSharedKey(string accountName, string base64Key)
    {
        ArgumentException.ThrowIfNullOrEmpty(accountName);
        ArgumentException.ThrowIfNullOrEmpty(base64Key);
        AccountName = accountName;
        try
        {
            _key = Convert.FromBase64String(base64Key);
        }
        catch (FormatException ex)
        {
            // The key itself never goes into a message.
            throw new FormatException("The storage account key is not valid base64.", ex);
        }
    }

    public string AccountName { get; }

    /// <summary>Base64 of HMAC-SHA256 of the UTF-8 string with the account key.</summary>
    public string Sign(string stringToSign) =>
        Convert.ToBase64String(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(stringToSign)));

    public override string ToString() => $"SharedKey({AccountName})";
}

/// <summary>Which signature scheme a shared key signs requests with.</summary>
public enum SharedKeyScheme
{
    SharedKey,
    SharedKeyLite,
}

/// <summary>
/// Where a storage account's services are and how to authenticate to them: either a shared key (connection strings,
/// Azurite) or a Microsoft Entra <see cref="Azure.Core.TokenCredential"/> (production accounts with shared keys disabled).
/// </summary>
public sealed class StorageAccount
{
    public StorageAccount(Uri? blobServiceUri, Uri? queueServiceUri, Uri? tableServiceUri, StorageSharedKey sharedKey)
        : this(blobServiceUri, queueServiceUri, tableServiceUri)
    {
        SharedKey = sharedKey ?? throw new ArgumentNullException(nameof(sharedKey));
    }

    public StorageAccount(Uri? blobServiceUri, Uri? queueServiceUri, Uri? tableServiceUri, TokenCredential tokenCredential)
        : this(blobServiceUri, queueServiceUri, tableServiceUri)
    {
        TokenCredential = tokenCredential ?? throw new ArgumentNullException(nameof(tokenCredential));
    }

    private StorageAccount(Uri? blobServiceUri, Uri? queueServiceUri, Uri? tableServiceUri)
    {
        BlobServiceUri = blobServiceUri;
        QueueServiceUri = queueServiceUri;
        TableServiceUri = tableServiceUri;
    }

    public Uri? BlobServiceUri { get; }
    public Uri? QueueServiceUri { get; }
    public Uri? TableServiceUri { get; }

    /// <summary>Set when the account authenticates with its key.</summary>
    public StorageSharedKey? SharedKey { get; }

    /// <summary>Set when the account authenticates with Microsoft Entra tokens.</summary>
    public TokenCredential? TokenCredential { get; }

    /// <summary>The endpoint of <paramref name="service"/>; throws when the configuration does not name one.</summary>
    public Uri GetServiceUri(StorageService service)
    {
        var uri = service switch
        {
            StorageService.Blob => BlobServiceUri,
            StorageService.Queue => QueueServiceUri,
            StorageService.Table => TableServiceUri,
            _ => throw new ArgumentOutOfRangeException(nameof(service), service, null),
        };
        return uri ?? throw new InvalidOperationException(
            $"The storage configuration names no {service.ToString().ToLowerInvariant()} service endpoint.");
    }
}
