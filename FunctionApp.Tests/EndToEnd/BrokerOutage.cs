using System.Diagnostics;
using FunctionApp.Messaging;
using ServiceBusTestBroker;
using Xunit.Abstractions;
using static FunctionApp.Tests.EndToEnd.EndToEnd;

namespace FunctionApp.Tests.EndToEnd;

/// <summary>A Service Bus outage as the callback route meets it, in either mode.</summary>
internal static class BrokerOutage
{
    /// <summary>
    /// With the broker refusing connections, then stalling them, a Tencent callback gets Tencent's failure answer, not
    /// its OK, within the enqueue deadline (plus what a loaded machine adds), and nothing reaches the queue. Leaves the
    /// broker online again.
    /// </summary>
    public static async Task ExpectFailureAnswersAsync(
        ServiceBusBroker broker, BrokerQueue queue, HttpClient client, string appId, byte[] body, ITestOutputHelper output)
    {
        var sentBefore = queue.TotalSent;
        foreach (var outage in new[] { BrokerAvailability.Refusing, BrokerAvailability.Stalled })
        {
            broker.SetAvailability(outage);
            var clock = Stopwatch.StartNew();
            var (status, answer) = await PostTencentAsync(client, appId, "Sns.CallbackFriendAdd", body);
            clock.Stop();
            Assert.DoesNotContain("\"ActionStatus\":\"OK\"", answer, StringComparison.Ordinal);
            Assert.Contains("\"ActionStatus\":\"FAIL\"", answer, StringComparison.Ordinal);
            output.WriteLine($"{outage}: {(int)status} after {clock.ElapsedMilliseconds} ms");
            Assert.True(clock.Elapsed < ServiceBusEventQueue.MaxEnqueueTime + TimeSpan.FromMilliseconds(500), $"{outage}: answered after {clock.ElapsedMilliseconds} ms");
        }

        Assert.Equal(sentBefore, queue.TotalSent);
        broker.SetAvailability(BrokerAvailability.Online);
    }

    /// <summary>Tencent sends the callback again until it gets OK.</summary>
    public static Task RetryUntilAcknowledgedAsync(HttpClient client, string appId, byte[] body) =>
        EventuallyAsync("the retry after the outage is acknowledged", async () =>
        {
            var (_, answer) = await PostTencentAsync(client, appId, "Sns.CallbackFriendAdd", body);
            return answer.Contains("\"ActionStatus\":\"OK\"", StringComparison.Ordinal);
        });
}
