using System.Globalization;

namespace FunctionApp.Hosting;

/// <summary>How the process was started.</summary>
public enum HostingMode
{
    /// <summary>Started by the Azure Functions host as a custom handler: invocations over loopback HTTP.</summary>
    Functions,

    /// <summary>Started on its own: serves the callback routes itself and queues through an Azure Storage queue.</summary>
    Standalone,
}

/// <summary>The hosting mode and the port Kestrel listens on, read from configuration once at startup.</summary>
public sealed record HostingEndpoint(HostingMode Mode, int Port)
{
    public const int DefaultStandalonePort = 7071;

    /// <summary>
    /// <c>FUNCTIONS_CUSTOMHANDLER_PORT</c> present means Functions mode on that loopback port; otherwise standalone on
    /// <c>PORT</c> (default 7071). Port 0 asks the system for a free port (tests use it).
    /// </summary>
    public static HostingEndpoint From(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var functionsPort = configuration[AppSettingNames.FunctionsCustomHandlerPort];
        if (!string.IsNullOrWhiteSpace(functionsPort))
        {
            return new HostingEndpoint(HostingMode.Functions, ParsePort(AppSettingNames.FunctionsCustomHandlerPort, functionsPort));
        }

        var port = configuration[AppSettingNames.Port];
        return new HostingEndpoint(
            HostingMode.Standalone,
            string.IsNullOrWhiteSpace(port) ? DefaultStandalonePort : ParsePort(AppSettingNames.Port, port));
    }

    private static int ParsePort(string name, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= 65535
            ? port
            : throw new InvalidOperationException($"Setting {name} must be a TCP port number (0-65535); it is '{value}'.");
}
