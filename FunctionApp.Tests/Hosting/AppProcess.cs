using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace FunctionApp.Tests.Hosting;

/// <summary>The built app (<c>FunctionApp.dll</c> beside the tests) started as its own process, as the Functions host and the local run start it.</summary>
internal sealed class AppProcess : IAsyncDisposable
{
    private readonly ConcurrentQueue<string> _output = new();

    private AppProcess(Process process) => Process = process;

    public Process Process { get; }

    /// <summary>The last lines the process wrote, for failure messages.</summary>
    public string Output => string.Join('\n', _output);

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Starts the app with only the given settings besides the inherited environment (PORT and the handler port removed).</summary>
    public static AppProcess Start(params (string Name, string Value)[] environment)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "FunctionApp.dll")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.Environment.Remove("PORT");
        start.Environment.Remove("FUNCTIONS_CUSTOMHANDLER_PORT");

        // The processes these tests start take unsigned callbacks, as the local run does; a test may say otherwise.
        start.Environment["Callbacks__AllowUnsigned"] = "true";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var app = new AppProcess(Process.Start(start)!);
        app.Process.OutputDataReceived += (_, e) => app.Keep(e.Data);
        app.Process.ErrorDataReceived += (_, e) => app.Keep(e.Data);
        app.Process.BeginOutputReadLine();
        app.Process.BeginErrorReadLine();
        return app;
    }

    /// <summary>Polls <paramref name="health"/> until it answers 200; returns the time since <paramref name="since"/> started.</summary>
    public async Task<TimeSpan> WaitForHealthAsync(HttpClient client, Uri health, Stopwatch since)
    {
        while (since.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (Process.HasExited)
            {
                throw new InvalidOperationException($"The app exited with code {Process.ExitCode}:\n{Output}");
            }

            try
            {
                using var response = await client.GetAsync(health);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return since.Elapsed;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(10);
        }

        throw new TimeoutException($"The app did not answer {health} within 30 s:\n{Output}");
    }

    /// <summary>SIGKILL: no shutdown code runs, as in a crash.</summary>
    public async Task KillAsync()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
            await Process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        Process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > 200 && _output.TryDequeue(out _))
        {
        }
    }
}
