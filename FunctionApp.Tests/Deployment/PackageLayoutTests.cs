using System.Diagnostics;
using System.IO.Compression;

namespace FunctionApp.Tests.Deployment;

/// <summary>Builds the real deployment zip with scripts/package.sh (a release publish: about a minute) and checks it.</summary>
public sealed class PackageLayoutTests : IDisposable
{
    private readonly string _workFolder = Directory.CreateTempSubdirectory("package-layout-").FullName;

    [Fact]
    public async Task Package_script_produces_the_layout_the_functions_host_needs()
    {
        var zipPath = Path.Combine(_workFolder, "out", "app.zip");
        var output = await RunPackageScriptAsync(zipPath);
        Assert.Contains(zipPath, output, StringComparison.Ordinal);
        Assert.True(File.Exists(zipPath), $"package.sh wrote no zip. Output:\n{output}");

        using var zip = ZipFile.OpenRead(zipPath);
        var entries = zip.Entries.ToDictionary(entry => entry.FullName, StringComparer.Ordinal);

        Assert.Equal(DeploymentFiles.Text("host.json"), ReadText(entries["host.json"]));
        var functions = DeploymentFiles.FunctionFolders();
        Assert.NotEmpty(functions);
        foreach (var function in functions)
        {
            var name = $"{function}/function.json";
            Assert.True(entries.ContainsKey(name), $"The package lacks {name}.");
            Assert.Equal(DeploymentFiles.Text(Path.Combine(function, "function.json")), ReadText(entries[name]));
        }

        // host.json starts handler/FunctionApp: it must be there and executable once the platform extracts the zip.
        var handler = entries["handler/FunctionApp"];
        var unixMode = (handler.ExternalAttributes >> 16) & 0xFFFF;
        Assert.True((unixMode & 0x49) == 0x49, $"handler/FunctionApp has mode {Convert.ToString(unixMode, 8)}, not executable.");
        Assert.True((unixMode & 0xF000) == 0x8000, "handler/FunctionApp is not recorded as a regular file.");
        Assert.Contains("handler/FunctionApp.dll", entries.Keys);
        Assert.Contains("handler/libcoreclr.so", entries.Keys); // self-contained: no .NET runtime needed on the host

        Assert.DoesNotContain(entries.Keys, name => name.StartsWith("obj/", StringComparison.Ordinal) || name.Contains("/obj/", StringComparison.Ordinal));
        Assert.DoesNotContain(entries.Keys, name => name.StartsWith("bin/", StringComparison.Ordinal) || name.Contains("/bin/", StringComparison.Ordinal));
        Assert.DoesNotContain(entries.Keys, name => name.Contains("FunctionApp.Tests", StringComparison.Ordinal));
        Assert.DoesNotContain(entries.Keys, name => name.Contains("xunit", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(entries.Keys, name => name.Contains("local.settings", StringComparison.Ordinal));
        Assert.All(entries.Keys, name => Assert.True(
            name == "host.json" || name.StartsWith("handler/", StringComparison.Ordinal) || functions.Contains(name.Split('/')[0]),
            $"Unexpected entry {name}."));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_workFolder, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }

    private static string ReadText(ZipArchiveEntry entry)
    {
        using var reader = new StreamReader(entry.Open());
        return reader.ReadToEnd();
    }

    private static async Task<string> RunPackageScriptAsync(string zipPath)
    {
        var start = new ProcessStartInfo("bash")
        {
            WorkingDirectory = DeploymentFiles.RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(DeploymentFiles.PathOf("scripts/package.sh"));
        start.ArgumentList.Add(zipPath);
        // The nested build must not leave build servers behind the test run.
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";

        using var process = Process.Start(start) ?? throw new InvalidOperationException("bash did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("scripts/package.sh did not finish within 8 minutes.");
        }

        var output = $"{await stdout}\n{await stderr}";
        Assert.True(process.ExitCode == 0, $"scripts/package.sh failed ({process.ExitCode}):\n{output}");
        return output;
    }
}
