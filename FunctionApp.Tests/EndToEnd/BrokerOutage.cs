using System.Diagnostics;
using FunctionApp.Messaging;
using ServiceBusTestBroker;
using Xunit.Abstractions;
using static FunctionApp.Tests.EndToEnd.EndToEnd;

namespace FunctionApp.Tests.EndToEnd;

/// <summary>A Service Bus outage as the callback route meets it, in either mode, on a broker of the test's own.</summary>
internal static class BrokerOutage
{
    public const string Owner = "outage-owner";
    public static readonly string[] Peers = ["before-peer", "outage-peer"];

    /// <summary>
    /// A callback is acknowledged before the outage. Then, with the broker refusing connections and then stalling them,
    /// a Tencent callback gets Tencent's failure answer, not its OK, within the enqueue deadline (plus what a loaded
    /// machine adds), and nothing reaches the queue. The broker comes back and Tencent's retry is acknowledged.
    /// </summary>
    /// <param name="beforeOutage">Runs once the first callback is acknowledged, before the outage starts.</param>
    public static async Task AcknowledgeAroundAnOutageAsync(
        ServiceBusBroker broker, BrokerQueue queue, HttpClient client, string appId, ITestOutputHelper output, Func<Task>? beforeOutage = null)
    {
        var (_, before) = await PostTencentAsync(client, appId, "Sns.CallbackFriendAdd", Utf8(TencentFriendAdd(Owner, [Peers[0]])));
        Assert.Contains("\"ActionStatus\":\"OK\"", before, StringComparison.Ordinal);
        if (beforeOutage is not null)
        {
            await beforeOutage();
        }

        var sentBefore = queue.TotalSent;
        var body = Utf8(TencentFriendAdd(Owner, [Peers[1]]));

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

        // Tencent sends the callback again until it gets OK.
        await PostTencentUntilAcknowledgedAsync(client, appId, "Sns.CallbackFriendAdd", body);
    }

    /// <summary>
    /// Both acknowledged callbacks applied, each message completed once, nothing dead-lettered. A message whose lock the
    /// outage broke comes back when its lock expires, so this waits for a lock of the queue's duration.
    /// </summary>
    public static async Task ExpectEverythingAppliedAsync(BrokerQueue queue, HttpClient client, string appId)
    {
        await ExpectUsersAsync(client, appId, Owner, "friends", Peers);
        await queue.WaitUntilAsync(q => q.ActiveMessageCount == 0, queue.LockDuration + TimeSpan.FromSeconds(10));
        Assert.Equal((2, 0), (queue.CompletedCount, queue.DeadLetterMessageCount));
    }
}
