using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;

namespace FunctionApp.Tests.Deployment;

/// <summary>
/// The pinned Bicep compiler (Azure.Bicep.CommandLine.linux-x64), which restore downloads into the NuGet packages
/// folder; the test project records its path and version as assembly metadata.
/// </summary>
internal static class BicepCompiler
{
    public static string PinnedVersion { get; } = Metadata("BicepVersion");

    private static readonly Lazy<string> Executable = new(FindExecutable);

    /// <summary>Runs <c>bicep</c> in the repository root; <paramref name="environment"/> sets (or, with null, removes) variables.</summary>
    public static async Task<BicepRun> RunAsync(IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo(Executable.Value)
        {
            WorkingDirectory = DeploymentFiles.RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bicep {string.Join(' ', start.ArgumentList)} did not finish within 2 minutes.");
        }

        return new BicepRun(string.Join(' ', start.ArgumentList), process.ExitCode, await stdout, await stderr);
    }

    private static string FindExecutable()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.OSArchitecture != Architecture.X64)
        {
            throw new PlatformNotSupportedException(
                $"The pinned Bicep compiler (Azure.Bicep.CommandLine.linux-x64 {PinnedVersion}) runs on Linux x64 only.");
        }

        var path = Metadata("BicepExecutable");
        if (!Path.IsPathRooted(path) || !File.Exists(path))
        {
            throw new InvalidOperationException(
                $"The Bicep compiler is not at '{path}'. Restore the test project (dotnet restore) to download " +
                $"Azure.Bicep.CommandLine.linux-x64 {PinnedVersion}.");
        }

        // NuGet extracts files without a guaranteed run bit.
        var mode = File.GetUnixFileMode(path);
        const UnixFileMode runBits = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        if ((mode & UnixFileMode.UserExecute) == 0)
        {
            File.SetUnixFileMode(path, mode | runBits);
        }

        return path;
    }

    private static string Metadata(string key) =>
        typeof(BicepCompiler).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .SingleOrDefault(attribute => attribute.Key == key)?.Value
        ?? throw new InvalidOperationException($"The test assembly has no '{key}' metadata (see FunctionApp.Tests.csproj).");
}

/// <summary>One finished bicep command: what it printed and how it exited.</summary>
public sealed record BicepRun(string Command, int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>Everything printed, for assertion messages; bicep prints each diagnostic on its own line.</summary>
    public string Output => $"bicep {Command} exited {ExitCode}\n{StandardOutput}\n{StandardError}".TrimEnd();
}
