using System.Globalization;
using System.Text.Json;
using System.Threading.RateLimiting;
using FunctionApp.Core;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.RateLimiting;
using Polly.Timeout;

namespace FunctionApp.Reconciliation;

/// <summary>How a platform states the outcome of an admin API call in its answer body.</summary>
internal interface IAdminApiDialect
{
    /// <summary>The answer's error code (0: success) and message.</summary>
    (long Code, string Message) StatusOf(JsonElement answer);

    /// <summary>True for the codes that ask to slow down or try again (rate limit, server busy or timed out).</summary>
    bool IsTransient(long code);

    ReconcileErrorKind KindOf(long code);
}

/// <summary>
/// The admin API calls of both platforms: one named <see cref="HttpClient"/> per app, whose resilience pipeline
/// holds the app's client-side rate limit (every attempt, retries included, takes a permit), retries with
/// exponential backoff and jitter on HTTP 408/429/5xx, transport errors and the platform's own transient codes
/// (which arrive with HTTP 200), and per-attempt and total timeouts.
/// </summary>
internal static class AdminApi
{
    public const string ClientNamePrefix = "reconcile:";

    public static string ClientName(string appId) => ClientNamePrefix + appId;

    /// <summary>
    /// A token bucket aiming at <paramref name="callsPerSecond"/> times the headroom. Its timer ticks in whole
    /// milliseconds, so the step (tokens per tick, also the bucket's size) and the tick are chosen together: the
    /// highest rate whose worst one-second window (the rate plus a step at each end) stays under 99 % of the limit.
    /// </summary>
    public static TokenBucketRateLimiter CreateLimiter(int callsPerSecond, double headroom)
    {
        var (tokens, periodMs) = LimiterSteps(callsPerSecond, headroom);
        return new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = tokens,
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = TimeSpan.FromMilliseconds(periodMs),
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
    }

    internal static (int Tokens, int PeriodMs) LimiterSteps(int callsPerSecond, double headroom)
    {
        var target = Math.Max(1, callsPerSecond * headroom);
        var best = (Tokens: 1, PeriodMs: (int)Math.Ceiling(1000 / target), Rate: 0.0);
        for (var tokens = 1; tokens <= Math.Max(1, callsPerSecond / 10); tokens++)
        {
            var periodMs = (int)Math.Ceiling(tokens * 1000 / target);
            var rate = tokens * 1000.0 / periodMs;
            if (rate + (2 * tokens) <= callsPerSecond * 0.99 && rate > best.Rate)
            {
                best = (tokens, periodMs, rate);
            }
        }

        return (best.Tokens, best.PeriodMs);
    }

    public static void AddClient(IServiceCollection services, string appId, IAdminApiDialect dialect, RateLimiter limiter, ReconciliationOptions options)
    {
        var name = ClientName(appId);
        services.AddHttpClient(name, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .AddResilienceHandler(name, pipeline =>
            {
                pipeline.AddTimeout(TimeSpan.FromSeconds(Math.Max(1, options.CallTimeoutSeconds)));
                pipeline.AddRetry(new HttpRetryStrategyOptions
                {
                    MaxRetryAttempts = 5,
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    Delay = TimeSpan.FromMilliseconds(200),
                    ShouldRetryAfterHeader = true,
                    ShouldHandle = args => ShouldRetryAsync(args.Outcome, dialect),
                });
                pipeline.AddRateLimiter(limiter);
                pipeline.AddTimeout(TimeSpan.FromSeconds(Math.Max(1, options.CallTimeoutSeconds / 3)));
            });
    }

    private static async ValueTask<bool> ShouldRetryAsync(Outcome<HttpResponseMessage> outcome, IAdminApiDialect dialect)
    {
        if (HttpClientResiliencePredicates.IsTransient(outcome))
        {
            return true;
        }

        if (outcome.Result is not { IsSuccessStatusCode: true } response)
        {
            return false;
        }

        // The platforms answer their rate limit and server errors with HTTP 200 and a code in the body: buffer it
        // so the caller can still read it when no retry follows.
        await response.Content.LoadIntoBufferAsync().ConfigureAwait(false);
        try
        {
            using var answer = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false));
            return answer.RootElement.ValueKind == JsonValueKind.Object && dialect.IsTransient(dialect.StatusOf(answer.RootElement).Code);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Posts a JSON body and reads the answer; every failure but cancellation comes back as the error.</summary>
    public static async Task<(JsonDocument? Answer, ReconcileError? Error)> PostAsync(
        HttpClient client, Uri uri, byte[] json, IReadOnlyDictionary<string, string>? headers, IAdminApiDialect dialect, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, uri)
        {
            Content = new ByteArrayContent(json) { Headers = { ContentType = new("application/json") } },
        };
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                var kind = (int)response.StatusCode == 429 ? ReconcileErrorKind.RateLimited : ReconcileErrorKind.PlatformError;
                return (null, new ReconcileError(kind, $"{uri.AbsolutePath} answered HTTP {(int)response.StatusCode}."));
            }

            var answer = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false));
            if (answer.RootElement.ValueKind != JsonValueKind.Object)
            {
                answer.Dispose();
                return (null, new ReconcileError(ReconcileErrorKind.PlatformError, $"{uri.AbsolutePath} answered JSON that is not an object."));
            }

            var (code, message) = dialect.StatusOf(answer.RootElement);
            if (code != 0)
            {
                answer.Dispose();
                return (null, new ReconcileError(dialect.KindOf(code), $"{uri.AbsolutePath} answered error {code}: {message}"));
            }

            return (answer, null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is TimeoutRejectedException or OperationCanceledException)
        {
            return (null, new ReconcileError(ReconcileErrorKind.Timeout, $"{uri.AbsolutePath} did not answer in time."));
        }
        catch (RateLimiterRejectedException)
        {
            return (null, new ReconcileError(ReconcileErrorKind.RateLimited, "The client-side rate limit refused the call."));
        }
        catch (HttpRequestException ex)
        {
            return (null, new ReconcileError(ReconcileErrorKind.PlatformError, $"{uri.AbsolutePath} could not be reached: {ex.Message}"));
        }
        catch (JsonException)
        {
            return (null, new ReconcileError(ReconcileErrorKind.PlatformError, $"{uri.AbsolutePath} answered something other than JSON."));
        }
    }

    public const int MaxPages = 1000;

    /// <summary>
    /// Follows a list's pages from <paramref name="first"/>: <paramref name="nextOf"/> gives the next page's cursor, or
    /// null when the answer says the list is complete. A failed page, or paging that does not advance, ends the read
    /// with the list marked incomplete (its edges so far are kept).
    /// </summary>
    public static async Task<(PlatformList List, int Pages, ReconcileError? Error)> ReadPagesAsync(
        string api,
        long first,
        Func<long, CancellationToken, Task<(JsonDocument? Answer, ReconcileError? Error)>> call,
        Func<JsonElement, IEnumerable<PlatformEdge>> edgesOf,
        Func<JsonElement, long, int, long?> nextOf,
        CancellationToken cancellationToken)
    {
        var edges = new List<PlatformEdge>();
        var cursor = first;
        for (var pages = 0; pages < MaxPages;)
        {
            var (answer, error) = await call(cursor, cancellationToken).ConfigureAwait(false);
            if (answer is null)
            {
                return (new PlatformList(edges, false), pages, error);
            }

            pages++;
            long? next;
            using (answer)
            {
                var before = edges.Count;
                edges.AddRange(edgesOf(answer.RootElement));
                next = nextOf(answer.RootElement, cursor, edges.Count - before);
            }

            if (next is null)
            {
                return (new PlatformList(edges, true), pages, null);
            }

            if (next <= cursor)
            {
                return (new PlatformList(edges, false), pages,
                    new ReconcileError(ReconcileErrorKind.PlatformError, $"{api} paging did not advance past {cursor}."));
            }

            cursor = next.Value;
        }

        return (new PlatformList(edges, false), MaxPages, new ReconcileError(ReconcileErrorKind.PlatformError, $"{api} did not complete in {MaxPages} pages."));
    }

    /// <summary>Both lists read side by side, as one snapshot; the first error found is the snapshot's.</summary>
    public static async Task<PlatformSnapshot> SnapshotAsync(
        Task<(PlatformList List, int Pages, ReconcileError? Error)> friends, Task<(PlatformList List, int Pages, ReconcileError? Error)> blocklist)
    {
        var (friendList, friendPages, friendError) = await friends.ConfigureAwait(false);
        var (blockList, blockPages, blockError) = await blocklist.ConfigureAwait(false);
        return new PlatformSnapshot(friendList, blockList, friendPages + blockPages, friendError ?? blockError);
    }

    /// <summary>The items of an array property; none when it is absent or not an array.</summary>
    public static IEnumerable<JsonElement> ArrayOf(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray()
            : [];

    /// <summary>Reads a property that may be a number or a numeric string; null when absent or not a number.</summary>
    public static long? Int64Of(JsonElement element, string name)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out var value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.Number when value.TryGetInt64(out var number) => number,
            JsonValueKind.String when long.TryParse(value.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed) => parsed,
            _ => null,
        };
    }

    public static string? StringOf(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    /// <summary>A host name becomes https://host/; an absolute URL (a test server, a proxy) is used as it is.</summary>
    public static Uri BaseUri(string domainOrUrl)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(domainOrUrl);
        var text = domainOrUrl.Contains("://", StringComparison.Ordinal) ? domainOrUrl : "https://" + domainOrUrl;
        return new Uri(text.TrimEnd('/') + "/", UriKind.Absolute);
    }

    /// <summary>A JSON object written by <paramref name="members"/>: request bodies without reflection.</summary>
    public static byte[] Json(Action<Utf8JsonWriter> members)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            members(writer);
            writer.WriteEndObject();
        }

        return stream.ToArray();
    }
}
