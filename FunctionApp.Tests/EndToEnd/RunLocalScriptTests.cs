using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using FunctionApp.Tests.Hosting;
using FunctionApp.Tests.Infrastructure;
using Xunit.Abstractions;
using static FunctionApp.Tests.EndToEnd.EndToEnd;

namespace FunctionApp.Tests.EndToEnd;

/// <summary>The README's run command, <c>scripts/run-local.sh</c>: it starts Azurite and the app, serves, and stops both on Ctrl-C.</summary>
public sealed partial class RunLocalScriptTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Run_local_serves_a_callback_and_a_query_and_stops_both_processes_on_ctrl_c()
    {
        var root = AzuriteProcess.RepositoryRoot();
        var data = Directory.CreateTempSubdirectory("run-local-").FullName;
        var port = AppProcess.FreePort();
        var start = new ProcessStartInfo("bash", [Path.Combine(root, "scripts", "run-local.sh")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = root,
        };
        start.Environment["PORT"] = port.ToString(CultureInfo.InvariantCulture);
        start.Environment["AZURITE_LOCATION"] = data;
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("Tencent__", StringComparison.Ordinal) || k.StartsWith("QueryApi__", StringComparison.Ordinal)
                     || k is "RelationshipStorage" or "FUNCTIONS_CUSTOMHANDLER_PORT").ToList())
        {
            start.Environment.Remove(name);
        }

        var lines = new ConcurrentQueue<string>();
        using var script = Process.Start(start)!;
        script.OutputDataReceived += (_, e) => { if (e.Data is not null) { lines.Enqueue(e.Data); } };
        script.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lines.Enqueue(e.Data); } };
        script.BeginOutputReadLine();
        script.BeginErrorReadLine();
        int[] children = [];
        try
        {
            var baseUrl = $"http://127.0.0.1:{port}";
            await EventuallyAsync("the script to print its URLs", () =>
            {
                Assert.False(script.HasExited, "run-local.sh exited:\n" + string.Join('\n', lines));
                return Task.FromResult(lines.Any(l => l.Contains($"Tencent:  {baseUrl}/api/callbacks/tencent", StringComparison.Ordinal)));
            }, TimeSpan.FromSeconds(120));
            var pids = Pids().Match(string.Join('\n', lines));
            Assert.True(pids.Success, string.Join('\n', lines));
            children = [int.Parse(pids.Groups["azurite"].Value, CultureInfo.InvariantCulture), int.Parse(pids.Groups["app"].Value, CultureInfo.InvariantCulture)];
            Assert.Contains(lines, l => l.Contains($"curl '{baseUrl}/api/v1/apps/1400000001/users/alice/friends'", StringComparison.Ordinal));
            Assert.Contains("FunctionApp", File.ReadAllText($"/proc/{children[1]}/cmdline"), StringComparison.Ordinal);

            using var client = new HttpClient { BaseAddress = new Uri(baseUrl + "/") };
            var (status, answer) = await PostTencentAsync(client, "1400000001", "Sns.CallbackFriendAdd", Utf8(TencentFriendAdd("alice", ["bob"])));
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Contains("\"ActionStatus\":\"OK\"", answer, StringComparison.Ordinal);
            await ExpectUsersAsync(client, "1400000001", "alice", "friends", "bob");
            Assert.True(Directory.EnumerateFileSystemEntries(data).Any(), "Azurite keeps its data in AZURITE_LOCATION");

            Interrupt(script.Id);
            Assert.True(script.WaitForExit(TimeSpan.FromSeconds(30)), "run-local.sh did not stop on SIGINT");
            script.WaitForExit(); // Only this overload waits for the redirected output's last lines to be handled.
            await EventuallyAsync("Azurite and the app to be gone", () => Task.FromResult(children.All(pid => !Directory.Exists($"/proc/{pid}"))),
                TimeSpan.FromSeconds(15));
            Assert.Contains(lines, l => l.Contains("Stopping the app", StringComparison.Ordinal));
        }
        finally
        {
            output.WriteLine(string.Join('\n', lines));
            if (!script.HasExited)
            {
                Interrupt(script.Id);
                script.WaitForExit(TimeSpan.FromSeconds(10));
            }

            foreach (var pid in children.Where(pid => Directory.Exists($"/proc/{pid}")))
            {
                using var orphan = Process.GetProcessById(pid);
                orphan.Kill();
            }

            Directory.Delete(data, recursive: true);
        }
    }

    private static void Interrupt(int pid)
    {
        using var kill = Process.Start("kill", ["-INT", pid.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    [GeneratedRegex(@"Azurite pid (?<azurite>\d+), app pid (?<app>\d+)")]
    private static partial Regex Pids();
}
