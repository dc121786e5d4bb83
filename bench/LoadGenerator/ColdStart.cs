using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;

namespace LoadGenerator;

/// <summary>
/// Starts the published handler again and again and measures the time from process start to its first
/// acknowledged callback on the callback route (polling every few milliseconds), then stops it. In Functions mode
/// (<c>--mode functions</c>, the default) that is the route the host forwards to, and the acknowledgement comes only
/// after the batch is on the Service Bus queue the <c>--env</c> settings name. Prints every run and the median.
/// </summary>
internal static class ColdStart
{
    public static async Task<int> RunAsync(Options options, CancellationToken cancellationToken)
    {
        var executable = options.Required("exe");
        var runs = options.Int("runs", 5);
        var functionsMode = options.Get("mode", "functions") != "standalone";
        var generator = new TencentCallbacks(options.Get("app", "1400000001"), options.Get("token"), 3);
        var pidFile = options.Get("pid-file");
        var timings = new List<double>();
        var cpuTimes = new List<double>();

        using var handler = new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = TimeSpan.Zero };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(5) };

        for (var run = 0; run < runs; run++)
        {
            var port = FreePort();
            var start = new ProcessStartInfo(executable)
            {
                WorkingDirectory = Path.GetDirectoryName(Path.GetFullPath(executable))!,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var setting in options.All("env"))
            {
                var split = setting.IndexOf('=', StringComparison.Ordinal);
                start.Environment[setting[..split]] = setting[(split + 1)..];
            }

            start.Environment[functionsMode ? "FUNCTIONS_CUSTOMHANDLER_PORT" : "PORT"] =
                port.ToString(CultureInfo.InvariantCulture);

            var clock = Stopwatch.StartNew();
            using var process = Process.Start(start) ?? throw new InvalidOperationException("The handler did not start.");
            if (pidFile is not null)
            {
                await File.WriteAllTextAsync(pidFile, process.Id.ToString(CultureInfo.InvariantCulture), cancellationToken);
            }

            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                var baseUri = new Uri($"http://127.0.0.1:{port}");
                var acknowledged = false;
                while (!acknowledged && clock.Elapsed < TimeSpan.FromSeconds(30) && !process.HasExited)
                {
                    var request = generator.Build(TencentCallbacks.OwnerId("cold", run, clock.ElapsedTicks));
                    try
                    {
                        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUri, request.PathAndQuery));
                        message.Content = new ByteArrayContent(request.Body);
                        message.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(request.ContentType);
                        using var response = await client.SendAsync(message, cancellationToken);
                        var body = Text.Utf8(await response.Content.ReadAsByteArrayAsync(cancellationToken));
                        acknowledged = HostileInput.IsAcknowledged("tencent", (int)response.StatusCode, body);
                    }
                    catch (HttpRequestException)
                    {
                        await Task.Delay(2, cancellationToken);
                    }
                }

                var elapsed = clock.Elapsed.TotalMilliseconds;
                if (!acknowledged)
                {
                    Console.Error.WriteLine($"cold-start: run {run + 1} got no acknowledgement within 30 s (exited: {process.HasExited}).");
                    return 1;
                }

                timings.Add(elapsed);
                var cpu = CpuMilliseconds(process.Id);
                cpuTimes.Add(cpu);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"cold-start run {run + 1}: {elapsed:F0} ms (process CPU {cpu:F0} ms)"));
            }
            finally
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }

                await process.WaitForExitAsync(CancellationToken.None);
            }
        }

        var sorted = timings.Order().ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"cold_start_median_ms={Median(sorted):F0} min_ms={sorted[0]:F0} max_ms={sorted[^1]:F0} cpu_median_ms={Median([.. cpuTimes.Order()]):F0} runs={sorted.Length}"));
        return 0;
    }

    private static double Median(double[] sorted) =>
        sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;

    /// <summary>
    /// User plus system CPU the process has used (from /proc, in clock ticks of 10 ms): unlike wall time, it barely
    /// moves when other work shares the cores, so it shows whether a change made startup cheaper.
    /// </summary>
    private static double CpuMilliseconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) * 10.0;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
