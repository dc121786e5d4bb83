using System.Diagnostics;
using System.Globalization;
using System.Net;
using FunctionApp.Tests.Hosting;
using FunctionApp.Tests.Infrastructure;
using Xunit.Abstractions;
using static FunctionApp.Tests.EndToEnd.EndToEnd;

namespace FunctionApp.Tests.EndToEnd;

/// <summary>
/// The built app as its own process: acknowledged callbacks survive a SIGKILL right after the last acknowledgement,
/// and a restarted app stores each of them exactly once.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class CrashRecoveryTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    private const int Callbacks = 40;
    private const int PairsPerCallback = 10;

    [Fact]
    public async Task Every_acknowledged_callback_is_stored_exactly_once_after_a_kill_and_a_restart()
    {
        var appId = NewTencentAppId();
        var queueName = NewName("crash");
        var port = AppProcess.FreePort();
        var baseAddress = new Uri($"http://127.0.0.1:{port}/");
        (string, string)[] settings =
        [
            ("PORT", port.ToString(CultureInfo.InvariantCulture)),
            ("RelationshipStorage", azurite.ConnectionString),
            ("RelationshipEventsQueue", queueName),
            ($"Tencent__Apps__{appId}__CallbackToken", ""),
            // A message received by the killed process comes back this soon.
            ("StandaloneQueue__VisibilityTimeoutSeconds", "3"),
        ];
        using var client = new HttpClient { BaseAddress = baseAddress };
        var owners = Enumerable.Range(0, Callbacks).Select(i => $"crash-{i:D2}").ToArray();

        await using (var first = AppProcess.Start(settings))
        {
            await first.WaitForHealthAsync(client, new Uri(baseAddress, "api/health"), Stopwatch.StartNew());
            var acknowledged = 0;
            await Parallel.ForEachAsync(owners, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (owner, _) =>
            {
                var body = TencentFriendAdd(owner, Enumerable.Range(0, PairsPerCallback).Select(j => $"{owner}-peer-{j}"));
                var (status, answer) = await PostTencentAsync(client, appId, "Sns.CallbackFriendAdd", Utf8(body));
                Assert.True(status == HttpStatusCode.OK && answer.Contains("\"OK\"", StringComparison.Ordinal), $"{(int)status} {answer}");
                Interlocked.Increment(ref acknowledged);
            });
            await first.KillAsync();
            Assert.Equal(Callbacks, acknowledged);
        }

        var queue = azurite.Queue(queueName);
        output.WriteLine($"messages left on the queue when the app was killed: {await queue.ApproximateCountAsync()} of {Callbacks}");

        await using var second = AppProcess.Start(settings);
        await second.WaitForHealthAsync(client, new Uri(baseAddress, "api/health"), Stopwatch.StartNew());
        await EventuallyAsync("every acknowledged edge stored", async () =>
        {
            foreach (var owner in owners)
            {
                if ((await UsersAsync(client, appId, owner, "friends")).Length != PairsPerCallback)
                {
                    return false;
                }
            }

            return true;
        }, TimeSpan.FromSeconds(30));
        await EventuallyAsync("the queue drained", async () => await queue.ApproximateCountAsync() == 0);

        foreach (var owner in owners)
        {
            var history = await ItemsAsync(client, appId, owner, "history");
            Assert.Equal(PairsPerCallback, history.Length);
            Assert.Equal(PairsPerCallback, history.Select(h => h.Text("eventId")).Distinct().Count());
            Assert.Equal(
                Enumerable.Range(0, PairsPerCallback).Select(j => $"{owner}-peer-{j}").Order(StringComparer.Ordinal),
                history.Select(h => h.Text("peer")).Order(StringComparer.Ordinal));
        }

        var poison = azurite.Queue(queueName + "-poison");
        Assert.Equal(0, await poison.ApproximateCountAsync());
    }
}
