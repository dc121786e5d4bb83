using System.Globalization;
using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;

namespace FunctionApp.Storage.Http;

/// <summary>
/// Signs each attempt of a request with the account key, as the storage services document for SharedKey and
/// SharedKeyLite authorization. The Table service and the Blob/Queue services canonicalize differently.
/// Runs per retry: each attempt gets a fresh <c>x-ms-date</c> and signature.
/// </summary>
public sealed class StorageSharedKeyPolicy : HttpPipelineSynchronousPolicy
{
    private readonly StorageSharedKey _key;
    private readonly StorageService _service;
    private readonly SharedKeyScheme _scheme;

    public StorageSharedKeyPolicy(StorageSharedKey key, StorageService service, SharedKeyScheme scheme = SharedKeyScheme.SharedKey)
    {
        _key = key ?? throw new ArgumentNullException(nameof(key));
        _service = service;
        _scheme = scheme;
    }

    public override void OnSendingRequest(HttpMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var request = message.Request;
        request.Headers.SetValue("x-ms-date", DateTimeOffset.UtcNow.ToString("R", CultureInfo.InvariantCulture));
        var stringToSign = StringToSign(_service, _scheme, _key.AccountName, request);
        var schemeName = _scheme == SharedKeyScheme.SharedKey ? "SharedKey" : "SharedKeyLite";
        request.Headers.SetValue("Authorization", $"{schemeName} {_key.AccountName}:{_key.Sign(stringToSign)}");
    }

    internal static string StringToSign(StorageService service, SharedKeyScheme scheme, string accountName, Request request)
    {
        string Header(string name) => request.Headers.TryGetValue(name, out var value) ? value : "";
        var method = request.Method.Method;
        var uri = request.Uri.ToUri();
        if (service == StorageService.Table)
        {
            var resource = TableCanonicalizedResource(accountName, uri);
            return scheme == SharedKeyScheme.SharedKey
                ? string.Join('\n', method, Header("Content-MD5"), Header("Content-Type"), Header("x-ms-date"), resource)
                : string.Join('\n', Header("x-ms-date"), resource);
        }

        if (scheme == SharedKeyScheme.SharedKeyLite)
        {
            return string.Join('\n', method, Header("Content-MD5"), Header("Content-Type"), "",
                CanonicalizedHeaders(request) + BlobQueueLiteResource(accountName, uri));
        }

        var contentLength = request.Content is not null && request.Content.TryComputeLength(out var length) && length > 0
            ? length.ToString(CultureInfo.InvariantCulture)
            : "";
        return string.Join('\n',
            method,
            Header("Content-Encoding"),
            Header("Content-Language"),
            contentLength,
            Header("Content-MD5"),
            Header("Content-Type"),
            "", // Date: x-ms-date is in the canonicalized headers instead
            Header("If-Modified-Since"),
            Header("If-Match"),
            Header("If-None-Match"),
            Header("If-Unmodified-Since"),
            Header("Range"),
            CanonicalizedHeaders(request) + BlobQueueCanonicalizedResource(accountName, uri));
    }

    /// <summary>Table service: the account, the encoded path, and only the <c>comp</c> query parameter.</summary>
    internal static string TableCanonicalizedResource(string accountName, Uri uri)
    {
        var resource = "/" + accountName + uri.AbsolutePath;
        var comp = QueryParameters(uri).FirstOrDefault(p => string.Equals(p.Name, "comp", StringComparison.OrdinalIgnoreCase));
        return comp.Name is null ? resource : resource + "?comp=" + comp.Value;
    }

    /// <summary>Blob and Queue services: every query parameter, names lower-cased and sorted, values decoded and sorted.</summary>
    internal static string BlobQueueCanonicalizedResource(string accountName, Uri uri)
    {
        var builder = new StringBuilder("/").Append(accountName).Append(uri.AbsolutePath);
        foreach (var group in QueryParameters(uri)
                     .GroupBy(p => p.Name.ToLowerInvariant())
                     .OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            builder.Append('\n').Append(group.Key).Append(':')
                .AppendJoin(',', group.Select(p => p.Value).Order(StringComparer.Ordinal));
        }

        return builder.ToString();
    }

    private static string BlobQueueLiteResource(string accountName, Uri uri)
    {
        var resource = "/" + accountName + uri.AbsolutePath;
        var comp = QueryParameters(uri).FirstOrDefault(p => string.Equals(p.Name, "comp", StringComparison.OrdinalIgnoreCase));
        return comp.Name is null ? resource : resource + "?comp=" + comp.Value;
    }

    private static string CanonicalizedHeaders(Request request)
    {
        var builder = new StringBuilder();
        foreach (var header in request.Headers
                     .Where(h => h.Name.StartsWith("x-ms-", StringComparison.OrdinalIgnoreCase))
                     .Select(h => (Name: h.Name.ToLowerInvariant(), Value: h.Value.Trim()))
                     .OrderBy(h => h.Name, StringComparer.Ordinal))
        {
            builder.Append(header.Name).Append(':').Append(header.Value).Append('\n');
        }

        return builder.ToString();
    }

    private static IEnumerable<(string Name, string Value)> QueryParameters(Uri uri)
    {
        var query = uri.Query.TrimStart('?');
        if (query.Length == 0)
        {
            yield break;
        }

        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]);
            var value = equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..]);
            yield return (name, value);
        }
    }
}
