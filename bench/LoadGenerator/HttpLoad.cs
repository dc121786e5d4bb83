using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;

namespace LoadGenerator;

/// <summary>
/// Closed-loop load: N connections each send one request, wait for its answer, and send the next, for a fixed
/// time after a warm-up. Only correct answers count: HTTP 200 carrying the platform's OK body. Every other answer is
/// counted by status, with its latency. The requests are the platform's own in either mode (in Functions mode the host
/// forwards them raw to the handler's callback route).
/// </summary>
internal static class HttpLoad
{
    /// <summary>Tencent's OK answer, as the callback route and the baseline endpoint send it.</summary>
    private static readonly byte[] TencentOk = """{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}"""u8.ToArray();

    public static async Task<int> RunAsync(Options options, CancellationToken cancellationToken)
    {
        var baseUri = new Uri(options.Required("url"));
        var baseline = options.Flag("baseline");
        var connections = options.Int("connections", 16);
        var duration = TimeSpan.FromSeconds(options.Double("duration", 10));
        var warmup = TimeSpan.FromSeconds(options.Double("warmup", 2));
        var runId = options.Get("run", "r" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        var generator = new TencentCallbacks(options.Get("app", "1400000001"), options.Get("token"), options.Int("pairs", 3));
        var acksFile = options.Get("acks");

        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = connections,
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            ConnectTimeout = TimeSpan.FromSeconds(5),
        };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(options.Double("timeout", 10)) };

        var results = new WorkerResult[connections];
        var acked = new ConcurrentQueue<string>();
        var clock = Stopwatch.StartNew();
        var measureFrom = warmup;
        var stopAt = warmup + duration;

        var workers = Enumerable.Range(0, connections).Select(worker => Task.Run(async () =>
        {
            var result = results[worker] = new WorkerResult();
            long sequence = 0;
            while (clock.Elapsed < stopAt && !cancellationToken.IsCancellationRequested)
            {
                var owner = TencentCallbacks.OwnerId(runId, worker, sequence++);
                var request = generator.Build(owner);
                var path = baseline ? "/benchmark/baseline" : request.PathAndQuery;
                var started = clock.Elapsed;
                int status;
                bool ok;
                try
                {
                    using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUri, path));
                    message.Content = new ByteArrayContent(request.Body);
                    message.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(request.ContentType);
                    using var response = await client.SendAsync(message, cancellationToken);
                    var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                    status = (int)response.StatusCode;
                    ok = status == 200 && body.AsSpan().SequenceEqual(TencentOk);
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    status = 0;
                    ok = false;
                    // A refused connection (the app is down) would otherwise spin.
                    await Task.Delay(10, CancellationToken.None);
                }

                var latency = (clock.Elapsed - started).TotalMilliseconds;
                if (ok)
                {
                    acked.Enqueue(owner);
                }

                if (started >= measureFrom && clock.Elapsed <= stopAt)
                {
                    result.Record(status, ok, latency);
                }
            }
        }, CancellationToken.None)).ToArray();

        await Task.WhenAll(workers);

        var all = results.Where(r => r is not null).ToArray();
        var okLatencies = all.SelectMany(r => r.OkLatencies).Order().ToArray();
        var statuses = new SortedDictionary<int, long>();
        foreach (var (status, count) in all.SelectMany(r => r.Statuses))
        {
            statuses[status] = statuses.GetValueOrDefault(status) + count;
        }

        var okCount = okLatencies.Length;
        var seconds = duration.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"http: ok={okCount} rps={okCount / seconds:F1} p50_ms={Percentile(okLatencies, 0.50):F2} p99_ms={Percentile(okLatencies, 0.99):F2} "
            + $"max_ok_ms={(okCount == 0 ? 0 : okLatencies[^1]):F1} not_ok={all.Sum(r => r.NotOk)} max_not_ok_ms={all.Select(r => r.MaxNotOkMs).DefaultIfEmpty().Max():F1} "
            + $"statuses={string.Join(',', statuses.Select(s => $"{s.Key}:{s.Value}"))}"));

        if (acksFile is not null)
        {
            await File.WriteAllLinesAsync(acksFile, acked, CancellationToken.None);
        }

        return 0;
    }

    internal static double Percentile(double[] sorted, double fraction) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(fraction * sorted.Length) - 1)];

    private sealed class WorkerResult
    {
        public List<double> OkLatencies { get; } = [];

        public Dictionary<int, long> Statuses { get; } = [];

        public long NotOk { get; private set; }

        public double MaxNotOkMs { get; private set; }

        public void Record(int status, bool ok, double latencyMs)
        {
            Statuses[status] = Statuses.GetValueOrDefault(status) + 1;
            if (ok)
            {
                OkLatencies.Add(latencyMs);
            }
            else
            {
                NotOk++;
                MaxNotOkMs = Math.Max(MaxNotOkMs, latencyMs);
            }
        }
    }
}

/// <summary>Small helpers shared by the commands.</summary>
internal static class Text
{
    public static string Utf8(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);
}
