using System.Net;
using FunctionApp.Api;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging.Console;

namespace FunctionApp.Hosting;

/// <summary>Composition root: builds the web app for the mode the process was started in.</summary>
public static class RelationshipCallbacksApp
{
    /// <param name="args">Command-line arguments (also a configuration source).</param>
    /// <param name="customize">Runs after the app's own registrations, before build (tests replace services here).</param>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? customize = null)
    {
        // Slim builder: no MVC, fewer default services, a faster cold start.
        var builder = WebApplication.CreateSlimBuilder(args);
        var configuration = builder.Configuration;
        var endpoint = HostingEndpoint.From(configuration);
        var standaloneLimits = endpoint.Mode == HostingMode.Standalone ? HttpServerLimits.Read(configuration) : null;

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            if (endpoint.Mode == HostingMode.Functions)
            {
                // The Functions host calls the handler over loopback only.
                kestrel.Listen(IPAddress.Loopback, endpoint.Port);
            }
            else
            {
                kestrel.ListenAnyIP(endpoint.Port);
                standaloneLimits!.ApplyTo(kestrel);
            }

            kestrel.AddServerHeader = false;
        });

        // The framework's request logs write the full URL with its query string, where Tencent puts Sign: keep them
        // quiet (these rules are more specific than, and registered after, the usual Default/Microsoft settings).
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore.Server.Kestrel", LogLevel.Warning);
        UseBatchedConsole(builder.Logging);

        builder.Services.AddSingleton(endpoint);
        builder.Services.AddSingleton(QueryApiKeys.Read(configuration));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<HealthCheckCache>();
        builder.Services
            .AddCallbackIngestion(configuration)
            .AddRelationshipStore(configuration, endpoint.Mode)
            .AddRelationshipQueue(configuration, endpoint.Mode)
            .AddReconciliation(configuration, endpoint.Mode);

        if (standaloneLimits is not null)
        {
            builder.Services.AddRequestTimeouts(standaloneLimits.ApplyTo);
        }

        customize?.Invoke(builder);

        var app = builder.Build();
        LogStartupWarnings(app, endpoint);
        app.UseStatusCodePages(context =>
            context.HttpContext.Response.HasStarted ? Task.CompletedTask : Problems.ForBareStatusCodeAsync(context.HttpContext));
        if (standaloneLimits is not null)
        {
            app.UseRequestTimeouts();
        }

        app.MapRelationshipCallbackEndpoints(endpoint.Mode, BenchmarkBaselineEndpoint.IsEnabled(configuration));
        return app;
    }

    /// <summary>
    /// The console logger delivers its lines in batches (<see cref="BatchedConsoleLoggerProvider"/>): same formatters
    /// and <c>Logging:Console</c> settings, without a writer wake-up per callback line.
    /// </summary>
    internal static void UseBatchedConsole(ILoggingBuilder logging)
    {
        logging.AddConsole();
        foreach (var framework in logging.Services
                     .Where(d => d.ServiceType == typeof(ILoggerProvider) && d.ImplementationType == typeof(ConsoleLoggerProvider)).ToList())
        {
            logging.Services.Remove(framework);
        }

        logging.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ILoggerProvider, BatchedConsoleLoggerProvider>());
    }

    private static void LogStartupWarnings(WebApplication app, HostingEndpoint endpoint)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("FunctionApp.Hosting");
        HostingLog.Starting(logger, endpoint.Mode, endpoint.Port);
        foreach (var warning in app.Services.GetRequiredService<ProtocolConfigurationResult>().Warnings)
        {
            HostingLog.ConfigurationWarning(logger, warning);
        }

        if (endpoint.Mode == HostingMode.Standalone && !app.Services.GetRequiredService<QueryApiKeys>().AreConfigured)
        {
            HostingLog.QueryApiLoopbackOnly(logger, AppSettingNames.QueryApiKeys);
        }
    }
}

internal static partial class HostingLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Starting in {Mode} mode on port {Port}")]
    public static partial void Starting(ILogger logger, HostingMode mode, int port);

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "Configuration: {Warning}")]
    public static partial void ConfigurationWarning(ILogger logger, string warning);

    [LoggerMessage(EventId = 101, Level = LogLevel.Warning,
        Message = "No query API key is configured ({Setting}): the query API answers loopback callers only")]
    public static partial void QueryApiLoopbackOnly(ILogger logger, string setting);
}
