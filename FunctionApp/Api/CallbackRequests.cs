using FunctionApp.Core;
using Microsoft.AspNetCore.Http.Features;

namespace FunctionApp.Api;

/// <summary>What both hosts do around the ingestor: read bounded bodies, call it, decide whether batches go on.</summary>
internal static class CallbackRequests
{
    /// <summary>First buffer for a body: a Content-Length is only a claim, so memory grows with the bytes that arrive.</summary>
    private const int InitialBufferBytes = 16 * 1024;

    /// <summary>
    /// Reads at most <paramref name="readLimit"/> bytes of the body. The framework's own size limit is lifted for
    /// this request because it would answer 413 in its own format; the ingestor answers in the platform's format
    /// when the body is longer than the configured limit (it then holds limit + 1 bytes). The buffer starts small
    /// and doubles as data arrives, so a client announcing 1 MiB and sending a trickle holds a trickle.
    /// </summary>
    public static async Task<byte[]> ReadBoundedBodyAsync(HttpRequest request, int readLimit, CancellationToken cancellationToken)
    {
        var sizeFeature = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = null;
        }

        var initialSize = (int)Math.Min(Math.Min(request.ContentLength ?? InitialBufferBytes, InitialBufferBytes), readLimit);
        var buffer = new byte[Math.Max(initialSize, 1)];
        var total = 0;
        while (total < readLimit)
        {
            if (total == buffer.Length)
            {
                Array.Resize(ref buffer, (int)Math.Min((long)buffer.Length * 2, readLimit));
            }

            var read = await request.Body.ReadAsync(buffer.AsMemory(total, buffer.Length - total), cancellationToken);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total == buffer.Length ? buffer : buffer[..total];
    }

    /// <summary>Batches go on the queue unless the callback was refused (an ignored callback has none).</summary>
    public static bool ShouldQueue(IngestResult result) =>
        result.Batches.Count > 0 && !string.Equals(result.Outcome.Outcome, "rejected", StringComparison.Ordinal);

    public static Dictionary<string, string> FirstValues(IQueryCollection query)
    {
        var values = new Dictionary<string, string>(query.Count, StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in query)
        {
            values.TryAdd(name, value.Count > 0 ? value[0] ?? string.Empty : string.Empty);
        }

        return values;
    }

    public static Dictionary<string, string> JoinedValues(IHeaderDictionary headers)
    {
        var values = new Dictionary<string, string>(headers.Count, StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in headers)
        {
            values[name] = value.ToString();
        }

        return values;
    }

    /// <summary>Exception facts safe for a log or an invocation answer (<see cref="ErrorDescription"/>).</summary>
    public static string Describe(Exception exception) => ErrorDescription.Of(exception);
}
