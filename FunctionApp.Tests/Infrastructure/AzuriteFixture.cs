using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FunctionApp.Hosting;

namespace FunctionApp.Tests.Infrastructure;

/// <summary>
/// One Azurite (the repository's pinned npm copy) for the whole test run: in memory, on free ports, stopped at the end.
/// Tests isolate themselves by table or queue name, never by sharing state.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private AzuriteProcess? _process;

    public AzuriteProcess Azurite => _process ?? throw new InvalidOperationException("Azurite has not started.");

    /// <summary>Connection string with Azurite's path-style endpoints and well-known development key.</summary>
    public string ConnectionString => Azurite.ConnectionString;

    public Uri BlobEndpoint => Azurite.BlobEndpoint;
    public Uri QueueEndpoint => Azurite.QueueEndpoint;
    public Uri TableEndpoint => Azurite.TableEndpoint;

    /// <summary>The app's SDK clients of this Azurite, made once.</summary>
    public StorageClients Clients => _clients ??= StorageClients.FromConnectionString(ConnectionString);

    private StorageClients? _clients;

    public async Task InitializeAsync() => _process = await AzuriteProcess.StartAsync([]);

    public async Task DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}

/// <summary>
/// A running Azurite process on free loopback ports. In memory by default; <see cref="StartPersistentAsync"/> keeps its
/// data in a folder, so it can be stopped (<see cref="StopAsync"/>, an outage) and started again on the same ports
/// with the same data (<see cref="RestartAsync"/>).
/// </summary>
public sealed class AzuriteProcess : IAsyncDisposable
{
    /// <summary>Azurite's well-known development account (public, the same in every emulator).</summary>
    public const string DevelopmentAccountName = "devstoreaccount1";

    public const string DevelopmentAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly string _location;
    private readonly bool _persistent;
    private readonly IReadOnlyList<string> _extraArguments;
    private readonly (int Blob, int Queue, int Table) _ports;
    private readonly ConcurrentQueue<string> _output = new();
    private Process? _process;

    private AzuriteProcess(string location, bool persistent, IReadOnlyList<string> extraArguments, (int Blob, int Queue, int Table) ports)
    {
        _location = location;
        _persistent = persistent;
        _extraArguments = extraArguments;
        _ports = ports;
        var scheme = extraArguments.Contains("--cert") ? "https" : "http";
        BlobEndpoint = new Uri($"{scheme}://127.0.0.1:{ports.Blob}/{DevelopmentAccountName}");
        QueueEndpoint = new Uri($"{scheme}://127.0.0.1:{ports.Queue}/{DevelopmentAccountName}");
        TableEndpoint = new Uri($"{scheme}://127.0.0.1:{ports.Table}/{DevelopmentAccountName}");
    }

    public Uri BlobEndpoint { get; }
    public Uri QueueEndpoint { get; }
    public Uri TableEndpoint { get; }

    /// <summary>Azurite's own process (the launcher is a node script run directly), for tests that pause it.</summary>
    public int ProcessId => _process?.Id ?? throw new InvalidOperationException("Azurite is stopped.");

    public string ConnectionString =>
        $"DefaultEndpointsProtocol={TableEndpoint.Scheme};AccountName={DevelopmentAccountName};" +
        $"AccountKey={DevelopmentAccountKey};BlobEndpoint={BlobEndpoint};QueueEndpoint={QueueEndpoint};TableEndpoint={TableEndpoint};";

    /// <summary>Starts Azurite with <paramref name="extraArguments"/> (for example <c>--oauth basic --cert .. --key ..</c>, which makes it HTTPS).</summary>
    public static Task<AzuriteProcess> StartAsync(IReadOnlyList<string> extraArguments) => StartAsync(extraArguments, persistent: false);

    /// <summary>Starts Azurite with its data in a folder of its own, so <see cref="RestartAsync"/> finds it again.</summary>
    public static Task<AzuriteProcess> StartPersistentAsync() => StartAsync([], persistent: true);

    private static async Task<AzuriteProcess> StartAsync(IReadOnlyList<string> extraArguments, bool persistent)
    {
        var location = Directory.CreateTempSubdirectory("azurite-tests-").FullName;
        var azurite = new AzuriteProcess(location, persistent, extraArguments, (FreePort(), FreePort(), FreePort()));
        try
        {
            await azurite.RunAsync();
        }
        catch
        {
            await azurite.DisposeAsync();
            throw;
        }

        return azurite;
    }

    /// <summary>Stops Azurite as an outage would, with SIGTERM so it saves its data first; the folder and the ports are kept.</summary>
    public async Task StopAsync()
    {
        if (_process is null || _process.HasExited)
        {
            return;
        }

        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _process = null;
    }

    /// <summary>Starts Azurite again after <see cref="StopAsync"/>, on the same ports, with the data it saved.</summary>
    public Task RestartAsync() => _persistent
        ? RunAsync()
        : throw new InvalidOperationException("An in-memory Azurite keeps no data across a restart: start it with StartPersistentAsync.");

    private async Task RunAsync()
    {
        var root = RepositoryRoot();
        var executable = Path.Combine(root, "node_modules", ".bin", "azurite");
        if (!File.Exists(executable))
        {
            throw new InvalidOperationException(
                $"Azurite is not installed at {executable}. Run 'npm ci' in {root}, or run the tests with ./scripts/test.sh, which installs it.");
        }

        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _location,
        };
        string[] storage = _persistent ? ["--location", Path.Combine(_location, "data")] : ["--inMemoryPersistence"];
        foreach (var argument in new[]
                 {
                     "--silent", "--disableTelemetry",
                     "--blobHost", "127.0.0.1", "--blobPort", _ports.Blob.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--queueHost", "127.0.0.1", "--queuePort", _ports.Queue.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--tableHost", "127.0.0.1", "--tablePort", _ports.Table.ToString(System.Globalization.CultureInfo.InvariantCulture),
                 }.Concat(storage).Concat(_extraArguments))
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("Azurite did not start.");
        process.OutputDataReceived += (_, e) => Keep(_output, e.Data);
        process.ErrorDataReceived += (_, e) => Keep(_output, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        await WaitUntilListeningAsync([_ports.Blob, _ports.Queue, _ports.Table], TimeSpan.FromSeconds(60));
    }

    private async Task WaitUntilListeningAsync(int[] ports, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        foreach (var port in ports)
        {
            while (true)
            {
                if (_process!.HasExited)
                {
                    throw new InvalidOperationException($"Azurite exited with code {_process.ExitCode}: {string.Join('\n', _output)}");
                }

                try
                {
                    using var client = new TcpClient();
                    await client.ConnectAsync(IPAddress.Loopback, port);
                    break;
                }
                catch (SocketException) when (deadline.Elapsed < timeout)
                {
                    await Task.Delay(100);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_process is { HasExited: false })
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        finally
        {
            _process?.Dispose();
            _process = null;
            try
            {
                Directory.Delete(_location, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temp folder is harmless.
            }
        }
    }

    /// <summary>The folder holding RelationshipCallbacks.slnx, found by walking up from the test assembly.</summary>
    public static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "RelationshipCallbacks.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No RelationshipCallbacks.slnx above {AppContext.BaseDirectory}.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void Keep(ConcurrentQueue<string> output, string? line)
    {
        if (line is null)
        {
            return;
        }

        output.Enqueue(line);
        while (output.Count > 50 && output.TryDequeue(out _))
        {
        }
    }
}
