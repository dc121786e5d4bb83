using System.Text;
using System.Text.Json;
using FunctionApp.Core;
using FunctionApp.Protocols;
using FunctionApp.Protocols.OpenIm;
using FunctionApp.Protocols.Tencent;

namespace FunctionApp.Tests.Protocols;

/// <summary>Builds inbound callbacks and ingestors the way hosts do, for protocol tests.</summary>
internal static class CallbackFactory
{
    public const string SignedApp = "1400000001";
    public const string UnsignedApp = "1400000002";
    public const string Token = "xxxxyyyy";
    public static readonly DateTimeOffset ReceivedAt = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);

    public static string FixturesRoot => Path.Combine(AppContext.BaseDirectory, "Fixtures");

    public static CallbackIngestor Ingestor(string? openImKey = null, Action<CallbackLimits>? limits = null)
    {
        var options = new ProtocolOptions
        {
            Tencent = new TencentOptions { Apps = { [SignedApp] = Token, [UnsignedApp] = "" } },
            OpenIm = new OpenImOptions { CallbackKey = openImKey },
        };
        limits?.Invoke(options.Limits);
        return new CallbackIngestor(options);
    }

    /// <summary>A Tencent callback to the unsigned app, with the query Tencent sends.</summary>
    public static InboundCallback Tencent(string command, byte[] body, IDictionary<string, string>? query = null, DateTimeOffset? receivedAt = null)
    {
        var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["SdkAppid"] = UnsignedApp,
            ["CallbackCommand"] = command,
            ["contenttype"] = "json",
            ["ClientIP"] = "10.0.0.7",
            ["OptPlatform"] = "iOS",
        };
        foreach (var (name, value) in query ?? new Dictionary<string, string>())
        {
            parameters[name] = value;
        }

        return new InboundCallback("tencent", "", parameters, new Dictionary<string, string>(), body, receivedAt ?? ReceivedAt);
    }

    /// <summary>A Tencent callback to the signed app, signed for <paramref name="requestTime"/>.</summary>
    public static InboundCallback SignedTencent(string command, byte[] body, long requestTime, DateTimeOffset? receivedAt = null) =>
        Tencent(command, body, new Dictionary<string, string>
        {
            ["SdkAppid"] = SignedApp,
            ["RequestTime"] = requestTime.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Sign"] = TencentSignature.Compute(Token, requestTime.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        }, receivedAt);

    public static InboundCallback OpenIm(string restPath, byte[] body, IDictionary<string, string>? query = null, string? operationId = "op-1", DateTimeOffset? receivedAt = null)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["Content-Type"] = "application/json" };
        if (operationId is not null)
        {
            headers["operationID"] = operationId;
        }

        return new InboundCallback("openim", restPath, new Dictionary<string, string>(query ?? new Dictionary<string, string>()), headers, body, receivedAt ?? ReceivedAt);
    }

    public static byte[] Utf8(string json) => Encoding.UTF8.GetBytes(json);

    public static JsonElement AnswerJson(IngestResult result)
    {
        using var document = JsonDocument.Parse(result.Answer.Body);
        return document.RootElement.Clone();
    }

    public static IReadOnlyList<RelationshipEvent> AllEvents(IngestResult result) =>
        result.Batches.SelectMany(b => b.Events).ToList();
}
