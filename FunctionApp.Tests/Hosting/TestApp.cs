using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FunctionApp.Hosting;
using FunctionApp.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FunctionApp.Tests.Hosting;

/// <summary>
/// The real app composition, started in-process on Kestrel on a free loopback-reachable port. Without a
/// <c>RelationshipStorage</c> setting it gets a well-formed one pointing at a closed port, and the app's storage
/// startup work and health probes are taken out, so tests that replace the Core services need no storage at all.
/// </summary>
internal sealed class TestApp : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestApp(WebApplication app, Uri baseAddress, CapturingLoggerProvider logs)
    {
        _app = app;
        BaseAddress = baseAddress;
        Logs = logs;
        Client = new HttpClient { BaseAddress = baseAddress };
    }

    public Uri BaseAddress { get; }

    /// <summary>The app's services, for tests of the composition.</summary>
    public IServiceProvider Services => _app.Services;

    public HttpClient Client { get; }

    public CapturingLoggerProvider Logs { get; }

    public static Task<TestApp> StartStandaloneAsync(Action<IServiceCollection>? services = null, params string[] settings) =>
        StartAsync(["--PORT=0", .. settings], services);

    public static Task<TestApp> StartFunctionsAsync(Action<IServiceCollection>? services = null, params string[] settings) =>
        StartAsync(["--FUNCTIONS_CUSTOMHANDLER_PORT=0", .. settings], services);

    /// <summary>A syntactically valid storage connection string to a port nothing listens on.</summary>
    public const string UnreachableStorage =
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" + AzuriteProcess.DevelopmentAccountKey +
        ";TableEndpoint=http://127.0.0.1:9/devstoreaccount1;QueueEndpoint=http://127.0.0.1:9/devstoreaccount1";

    /// <summary>A well-formed Service Bus connection string to a port nothing listens on (the client connects on first use only).</summary>
    public const string UnreachableServiceBus =
        "Endpoint=sb://127.0.0.1:9;SharedAccessKeyName=test;SharedAccessKey=test;UseDevelopmentEmulator=true";

    private static async Task<TestApp> StartAsync(string[] args, Action<IServiceCollection>? services)
    {
        var logs = new CapturingLoggerProvider();

        // These tests post unsigned callbacks: allow them as the local run does, unless a test decides itself.
        if (!args.Any(a => a.StartsWith("--" + AppSettingNames.CallbacksAllowUnsigned, StringComparison.OrdinalIgnoreCase)))
        {
            args = [.. args, $"--{AppSettingNames.CallbacksAllowUnsigned}=true"];
        }

        if (args.Contains("--FUNCTIONS_CUSTOMHANDLER_PORT=0") && !args.Any(a => a.StartsWith("--ServiceBusConnection", StringComparison.Ordinal)))
        {
            args = [.. args, "--ServiceBusConnection=" + UnreachableServiceBus];
        }

        var withoutStorage = !args.Any(a => a.StartsWith("--RelationshipStorage", StringComparison.Ordinal));
        if (withoutStorage)
        {
            args = [.. args, "--RelationshipStorage=" + UnreachableStorage];
        }

        var app = RelationshipCallbacksApp.Build(args, builder =>
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(logs);
            if (withoutStorage)
            {
                var appAssembly = typeof(RelationshipCallbacksApp).Assembly;
                builder.Services.RemoveAll<IHealthProbe>();
                foreach (var hosted in builder.Services
                             .Where(d => d.ServiceType == typeof(IHostedService) && IsFrom(d, appAssembly)).ToList())
                {
                    builder.Services.Remove(hosted);
                }
            }

            services?.Invoke(builder.Services);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var port = new Uri(address.Replace("[::]", "localhost", StringComparison.Ordinal)).Port;
        return new TestApp(app, new Uri($"http://127.0.0.1:{port}/"), logs);
    }

    private static bool IsFrom(ServiceDescriptor descriptor, System.Reflection.Assembly assembly) =>
        descriptor.ImplementationType?.Assembly == assembly
        || descriptor.ImplementationInstance?.GetType().Assembly == assembly
        // Factory registrations: the factory is a lambda declared in the app's assembly.
        || descriptor.ImplementationFactory?.Method.DeclaringType?.Assembly == assembly;

    /// <summary>
    /// Sends a GET with the request target written exactly as given (HttpClient would canonicalize "..", "%2E" and
    /// similar), and returns status and body.
    /// </summary>
    public async Task<(HttpStatusCode Status, string Body)> RawGetAsync(string target, string? apiKey = null)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, BaseAddress.Port);
        await using var stream = tcp.GetStream();
        var request = $"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            + (apiKey is null ? "" : $"x-api-key: {apiKey}\r\n") + "\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var response = await reader.ReadToEndAsync();
        var status = (HttpStatusCode)int.Parse(response.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headerEnd = response.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var head = response[..headerEnd];
        var body = response[(headerEnd + 4)..];
        if (head.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase))
        {
            body = Unchunk(body);
        }

        return (status, body);
    }

    private static string Unchunk(string chunked)
    {
        var result = new StringBuilder();
        var bytes = Encoding.UTF8.GetBytes(chunked);
        var position = 0;
        while (true)
        {
            var lineEnd = Array.IndexOf(bytes, (byte)'\r', position);
            var size = Convert.ToInt32(Encoding.ASCII.GetString(bytes, position, lineEnd - position), 16);
            if (size == 0)
            {
                return result.ToString();
            }

            result.Append(Encoding.UTF8.GetString(bytes, lineEnd + 2, size));
            position = lineEnd + 2 + size + 2;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>Keeps every formatted log line, with its category, for assertions.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<(string Category, LogLevel Level, string Message)> Entries { get; } = new();

    public IEnumerable<string> Messages => Entries.Select(e => e.Message);

    public ILogger CreateLogger(string categoryName) => new CapturingLogger(categoryName, Entries);

    public void Dispose() { }

    private sealed class CapturingLogger(string category, ConcurrentQueue<(string, LogLevel, string)> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Enqueue((category, logLevel, formatter(state, exception) + (exception is null ? "" : " | " + exception)));
    }
}
