using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FunctionApp.Hosting;
using FunctionApp.Messaging;

namespace LoadGenerator;

/// <summary>
/// Generated hostile callbacks for one platform, sent to the callback route (standalone, or in Functions mode the
/// route the host forwards the platform's request to, raw). Every answer must be a 4xx in the platform's own error
/// format, never a 5xx; afterwards the app must still acknowledge a valid callback. Nothing may have been queued:
/// with <c>--storage</c> the Storage queue, its poison queue and the history table must not have grown; with
/// <c>--broker-status</c> the test broker's queue <c>--broker-queue</c> must not have accepted a message.
/// </summary>
internal static class HostileInput
{
    private static readonly string[] TencentCommands = ["Sns.CallbackFriendAdd", "Sns.CallbackFriendDelete", "Sns.CallbackBlackListAdd", "Sns.CallbackBlackListDelete"];

    private static readonly (string Command, string[] Ids, string? ListField, string Extra)[] OpenImCommands =
    [
        ("callbackAfterAddFriendCommand", ["fromUserID", "toUserID"], null, ""","reqMsg":"hi" """),
        ("callbackAfterAddFriendAgreeCommand", ["fromUserID", "blackUserID"], null, ""","handleResult":1,"handleMsg":"ok" """),
        ("callbackAfterImportFriendsCommand", ["ownerUserID"], "friendUserIDs", ""),
        ("callbackAfterDeleteFriendCommand", ["ownerUserID", "friendUserID"], null, ""),
        ("callbackBeforeAddBlackCommand", ["ownerUserID", "blackUserID"], null, ""),
        ("callbackAfterRemoveBlackCommand", ["ownerUserID", "blackUserID"], null, ""),
        ("callbackAfterSetFriendRemarkCommand", ["ownerUserID", "friendUserID"], null, ""","remark":"r" """),
    ];

    /// <summary>Malformed JSON that no command can accept.</summary>
    private static readonly string[] Syntax =
    [
        "", " ", "{", "}", "[]", "null", "true", "42", "\"text\"", "{'PairList':[]}", "{\"a\":1,}", "{\"a\":1 /* c */}",
        "{\"a\":NaN}", "{\"a\":1}}", "{\"a\" 1}", "<xml/>",
    ];

    /// <summary>One hostile request; its query is built when it is sent, so signed times are relative to that moment.</summary>
    private sealed record Case(string Name, string Path, Func<IReadOnlyDictionary<string, string>> Query, byte[] Body, string Platform);

    public static async Task<int> RunAsync(Options options, CancellationToken cancellationToken)
    {
        var baseUri = new Uri(options.Required("url"));
        var platform = options.Required("platform");
        var appId = options.Get("app", "1400000001");
        var token = options.Get("token");
        var openImKey = options.Get("openim-key");
        var cases = platform == "tencent" ? TencentCases(appId, token) : OpenImCases(openImKey);

        var storage = options.Get("storage");
        if (storage is not null)
        {
            // What an earlier run acknowledged (its liveness check) is applied first, so only this run can change the counts.
            await WaitUntilDrainedAsync(BenchQueues.Get(storage, options.Required("queue")), cancellationToken);
        }

        var before = storage is null ? default : await CountStoredAsync(storage, options.Required("queue"), cancellationToken);
        var brokerStatus = options.Get("broker-status");
        var brokerQueue = brokerStatus is null ? null : options.Required("broker-queue");
        var sentBefore = brokerStatus is null ? 0 : BrokerStatus.Read(brokerStatus, brokerQueue!).Sent;

        using var handler = new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = 4 };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        var statuses = new SortedDictionary<int, int>();
        var failures = new List<string>();
        foreach (var item in cases)
        {
            var (status, problem) = await SendAsync(client, baseUri, item, cancellationToken);
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            if (problem is not null)
            {
                failures.Add($"{item.Name}: {problem}");
            }
        }

        if (storage is not null)
        {
            await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
            var after = await CountStoredAsync(storage, options.Required("queue"), cancellationToken);
            if (after != before)
            {
                failures.Add($"storage changed: queue+poison {before.Queued} -> {after.Queued}, history rows {before.History} -> {after.History}");
            }
        }

        if (brokerStatus is not null)
        {
            // The broker's status file is rewritten every 50 ms: wait past a few rewrites before reading it again.
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            var sentAfter = BrokerStatus.Read(brokerStatus, brokerQueue!).Sent;
            if (sentAfter != sentBefore)
            {
                failures.Add($"storage changed: Service Bus queue {brokerQueue} accepted {sentAfter - sentBefore} messages");
            }
        }

        // Still alive and still serving: a valid callback is acknowledged.
        var valid = new TencentCallbacks(appId, token, 1);
        var liveness = platform == "tencent"
            ? valid.Build("fuzz-alive-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture))
            : ToRequest(OpenImValid(openImKey, "fuzz-alive"));
        var alive = await PostAsync(client, baseUri, liveness, cancellationToken);
        var aliveOk = IsAcknowledged(platform, alive.Status, alive.Body);
        if (!aliveOk)
        {
            failures.Add($"after the hostile requests a valid callback got {alive.Status}: {Shorten(alive.Body)}");
        }

        foreach (var failure in failures.Take(40))
        {
            Console.Error.WriteLine("fuzz FAILED " + failure);
        }

        var enqueued = storage is null && brokerStatus is null ? "" : " enqueued=" + (failures.Any(f => f.StartsWith("storage", StringComparison.Ordinal)) ? "yes" : "none");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"fuzz: platform={platform} queue={(brokerStatus is null ? "storage" : "servicebus")} requests={cases.Count} failures={failures.Count} "
            + $"answers={string.Join(',', statuses.Select(s => $"{s.Key}:{s.Value}"))} alive_after={(aliveOk ? "yes" : "no")}{enqueued}"));
        return failures.Count == 0 ? 0 : 1;
    }

    private static async Task<(int Status, string? Problem)> SendAsync(HttpClient client, Uri baseUri, Case item, CancellationToken cancellationToken)
    {
        try
        {
            var answer = await PostAsync(client, baseUri, ToRequest(item), cancellationToken);
            return (answer.Status, Check(item.Platform, answer.Status, answer.Body));
        }
        catch (HttpRequestException ex)
        {
            return (0, "no answer: " + ex.Message);
        }
    }

    /// <summary>The platform's OK answer with 200.</summary>
    internal static bool IsAcknowledged(string platform, int status, string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            return status == 200 && (platform == "tencent"
                ? root.GetProperty("ActionStatus").GetString() == "OK" && root.GetProperty("ErrorCode").GetInt32() == 0
                : root.GetProperty("actionCode").GetInt32() == 0 && root.GetProperty("errCode").GetInt32() == 0);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return false;
        }
    }

    /// <summary>A 4xx in the platform's format: Tencent FAIL with a non-zero code, OpenIM a non-zero errCode.</summary>
    private static string? Check(string platform, int status, string body)
    {
        if (status is < 400 or >= 500)
        {
            return $"answered {status}: {Shorten(body)}";
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            var wellFormed = platform == "tencent"
                ? root.GetProperty("ActionStatus").GetString() == "FAIL" && root.GetProperty("ErrorCode").GetInt32() != 0
                    && !string.IsNullOrEmpty(root.GetProperty("ErrorInfo").GetString())
                : root.GetProperty("errCode").GetInt32() != 0 && root.GetProperty("actionCode").GetInt32() != 0
                    && !string.IsNullOrEmpty(root.GetProperty("errMsg").GetString());
            return wellFormed ? null : $"{status} not in the {platform} error format: {Shorten(body)}";
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return $"{status} not in the {platform} error format: {Shorten(body)}";
        }
    }

    private static CallbackRequest ToRequest(Case item)
    {
        var query = item.Query();
        var path = item.Path + (query.Count == 0 ? "" : "?" + TencentCallbacks.QueryString(query));
        return new CallbackRequest(path, "application/json", item.Body, null);
    }

    private static async Task<(int Status, string Body)> PostAsync(HttpClient client, Uri baseUri, CallbackRequest request, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUri, request.PathAndQuery));
        message.Content = new ByteArrayContent(request.Body);
        message.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(request.ContentType);
        message.Headers.TryAddWithoutValidation("operationID", "fuzz-" + Guid.NewGuid().ToString("N"));
        using var response = await client.SendAsync(message, cancellationToken);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
    }

    private static List<Case> TencentCases(string appId, string? token)
    {
        var cases = new List<Case>();
        long Now() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Dictionary<string, string> Query(string command, long? requestTime = null, string? sign = null, string? sdkAppId = null)
        {
            var time = requestTime ?? Now();
            var query = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["SdkAppid"] = sdkAppId ?? appId,
                ["CallbackCommand"] = command,
                ["contenttype"] = "json",
                ["ClientIP"] = "203.0.113.7",
                ["OptPlatform"] = "iOS",
            };
            if (token is not null)
            {
                query["RequestTime"] = time.ToString(CultureInfo.InvariantCulture);
                query["Sign"] = sign ?? TencentCallbacks.Sign(token, time);
            }

            return query;
        }

        void Add(string name, string command, byte[] body, Func<Dictionary<string, string>>? query = null) =>
            cases.Add(new Case($"tencent {command} {name}", "/api/callbacks/tencent", query ?? (() => Query(command)), body, "tencent"));
        void AddText(string name, string command, string body) => Add(name, command, Encoding.UTF8.GetBytes(body));

        foreach (var command in TencentCommands)
        {
            string Pair(string from, string to) => $$"""{"From_Account":{{from}},"To_Account":{{to}}}""";
            string Body(string pairList) => $$"""{"CallbackCommand":"{{command}}","PairList":{{pairList}}}""";
            var valid = Body($"[{Pair("\"alice\"", "\"bob\"")},{Pair("\"alice\"", "\"carol\"")},{Pair("\"alice\"", "\"dave\"")}]");

            for (var cut = 1; cut <= 10; cut++)
            {
                AddText($"truncated at {cut}/11", command, valid[..(valid.Length * cut / 11)]);
            }

            foreach (var syntax in Syntax)
            {
                AddText($"malformed '{syntax}'", command, syntax);
            }

            AddText("PairList nested 40 deep", command, Body(new string('[', 40) + new string(']', 40)));
            AddText("root nested 200 deep", command, new string('[', 200) + new string(']', 200));
            AddText("id nested 40 deep", command, Body($"[{Pair(new string('[', 40) + new string(']', 40), "\"bob\"")}]"));
            AddText("id of 129 characters", command, Body($"[{Pair($"\"{new string('a', 129)}\"", "\"bob\"")}]"));
            AddText("id of 100,000 characters", command, Body($"[{Pair($"\"{new string('x', 100_000)}\"", "\"bob\"")}]"));
            AddText("peer of 5,000 characters", command, Body($"[{Pair("\"alice\"", $"\"{new string('é', 5000)}\"")}]"));
            foreach (var wrong in new[] { "{}", "\"pairs\"", "1", "true" })
            {
                AddText($"PairList {wrong}", command, Body(wrong));
            }

            foreach (var wrong in new[] { "\"pair\"", "1", "null", "[]" })
            {
                AddText($"pair {wrong}", command, Body($"[{wrong}]"));
            }

            foreach (var wrong in new[] { "1", "true", "[]", "{}", "null", "\"\"", "\" \"", "\"\\t\"" })
            {
                AddText($"From_Account {wrong}", command, Body($"[{Pair(wrong, "\"bob\"")}]"));
            }

            foreach (var wrong in new[] { "2", "[\"bob\"]", "null", "\"\"" })
            {
                AddText($"To_Account {wrong}", command, Body($"[{Pair("\"alice\"", wrong)}]"));
            }

            AddText("PairList null", command, Body("null"));
            AddText("From_Account missing", command, Body("""[{"To_Account":"bob"}]"""));
            AddText("To_Account missing", command, Body("""[{"From_Account":"alice"}]"""));
            AddText("raw U+0001 in an id", command, Body($"[{Pair("\"al\u0001ice\"", "\"bob\"")}]"));
            AddText("raw newline in an id", command, Body($"[{Pair("\"al\nice\"", "\"bob\"")}]"));
            AddText("escaped lone high surrogate", command, Body($"[{Pair("\"a\\ud800\"", "\"bob\"")}]"));
            AddText("escaped lone low surrogate", command, Body($"[{Pair("\"\\udfffa\"", "\"bob\"")}]"));
            foreach (var (label, bytes) in InvalidUtf8)
            {
                Add($"invalid UTF-8 ({label})", command, Splice(Body($"[{Pair("\"al#ice\"", "\"bob\"")}]"), bytes));
            }

            AddText("duplicate PairList", command, $$"""{"CallbackCommand":"{{command}}","PairList":[],"PairList":[{{Pair("\"a\"", "\"b\"")}}]}""");
            AddText("duplicate From_Account", command, Body("""[{"From_Account":"a","From_Account":"b","To_Account":"c"}]"""));
            AddText("duplicate CallbackCommand", command, $$"""{"CallbackCommand":"{{command}}","CallbackCommand":"{{command}}","PairList":[]}""");
            AddText("body command differs from the query", command, valid.Replace(command, command == TencentCommands[0] ? TencentCommands[1] : TencentCommands[0], StringComparison.Ordinal));
        }

        const string Command = "Sns.CallbackFriendAdd";
        var body = Encoding.UTF8.GetBytes($$"""{"CallbackCommand":"{{Command}}","PairList":[{"From_Account":"alice","To_Account":"bob"}]}""");
        var big = $$"""{"CallbackCommand":"{{Command}}","PairList":[{"From_Account":"alice","To_Account":"bob"}],"ClientCmd":"{{new string('x', 1024 * 1024)}}"}""";
        AddText("body over 1 MiB", Command, big);
        AddText("body of 3 MiB", Command, big + new string(' ', 2 * 1024 * 1024));
        AddText("1,001 pairs", Command, $$"""{"CallbackCommand":"{{Command}}","PairList":[{{string.Join(',', Enumerable.Range(0, 1001).Select(i => $$"""{"From_Account":"a","To_Account":"p{{i}}"}"""))}}]}""");
        Add("unknown SdkAppid", Command, body, () => Query(Command, sdkAppId: "1400999999"));
        Add("SdkAppid missing", Command, body, () => Query(Command).Where(p => p.Key != "SdkAppid").ToDictionary());
        Add("contenttype xml", Command, body, () => new Dictionary<string, string>(Query(Command)) { ["contenttype"] = "xml" });
        if (token is not null)
        {
            Add("wrong Sign", Command, body, () => Query(Command, sign: new string('0', 64)));
            Add("Sign of another token", Command, body, () => Query(Command, sign: TencentCallbacks.Sign(token + "x", Now())));
            Add("Sign one character short", Command, body, () => Query(Command, sign: TencentCallbacks.Sign(token, Now())[..63]));
            Add("Sign not hex", Command, body, () => Query(Command, sign: new string('z', 64)));
            Add("Sign missing", Command, body, () => Query(Command).Where(p => p.Key != "Sign").ToDictionary());
            Add("RequestTime missing", Command, body, () => Query(Command).Where(p => p.Key != "RequestTime").ToDictionary());
            Add("RequestTime not a number", Command, body, () => new Dictionary<string, string>(Query(Command)) { ["RequestTime"] = "soon" });
            // 62 rather than 61: RequestTime is whole seconds, so one second of the margin can be a rounding.
            foreach (var skew in new[] { -62L, -120, -3600, -86_400 * 365, 62, 120, 3600 })
            {
                Add($"clock off by {skew} s (signed)", Command, body, () => Query(Command, requestTime: Now() + skew));
            }

            Add("RequestTime in milliseconds", Command, body, () => Query(Command, requestTime: Now() * 1000));
        }

        return cases;
    }

    private static List<Case> OpenImCases(string? key)
    {
        var cases = new List<Case>();
        var keyPath = key is null ? "" : "/" + key;
        void Add(string name, string command, byte[] body, string? path = null, Dictionary<string, string>? query = null)
        {
            path ??= $"/api/callbacks/openim{keyPath}/{command}";
            cases.Add(new Case($"openim {command} {name}", path, () => query ?? [], body, "openim"));
        }

        void AddText(string name, string command, string body, string? path = null, Dictionary<string, string>? query = null) =>
            Add(name, command, Encoding.UTF8.GetBytes(body), path, query);

        foreach (var (command, ids, listField, extra) in OpenImCommands)
        {
            string Body(IReadOnlyDictionary<string, string> values) =>
                "{" + string.Join(',', new[] { $"\"callbackCommand\":\"{command}\"" }.Concat(values.Select(v => $"\"{v.Key}\":{v.Value}"))) + extra.TrimEnd() + "}";
            Dictionary<string, string> Valid()
            {
                var values = ids.Select((id, i) => (id, $"\"user{i}\"")).ToDictionary(p => p.id, p => p.Item2);
                if (listField is not null)
                {
                    values[listField] = """["f1","f2"]""";
                }

                return values;
            }

            string With(string field, string? value)
            {
                var values = Valid();
                if (value is null)
                {
                    values.Remove(field);
                }
                else
                {
                    values[field] = value;
                }

                return Body(values);
            }

            var valid = Body(Valid());
            for (var cut = 1; cut <= 8; cut++)
            {
                AddText($"truncated at {cut}/9", command, valid[..(valid.Length * cut / 9)]);
            }

            foreach (var syntax in Syntax)
            {
                AddText($"malformed '{syntax}'", command, syntax);
            }

            AddText("root nested 200 deep", command, new string('[', 200) + new string(']', 200));
            AddText("id nested 40 deep", command, With(ids[0], new string('[', 40) + new string(']', 40)));
            AddText("id of 129 characters", command, With(ids[0], $"\"{new string('a', 129)}\""));
            AddText("id of 200,000 characters", command, With(ids[0], $"\"{new string('x', 200_000)}\""));
            foreach (var field in ids)
            {
                foreach (var wrong in new[] { "1", "true", "[]", "{}", "null", "\"\"", "\"  \"" })
                {
                    AddText($"{field} {wrong}", command, With(field, wrong));
                }

                AddText($"{field} missing", command, With(field, null));
            }

            if (listField is not null)
            {
                foreach (var wrong in new[] { "\"f1\"", "1", "{}", "[1]", "[null]", "[\"\"]", "null" })
                {
                    AddText($"{listField} {wrong}", command, With(listField, wrong));
                }

                AddText($"{listField} of 1,001", command, With(listField, "[" + string.Join(',', Enumerable.Range(0, 1001).Select(i => $"\"f{i}\"")) + "]"));
            }

            AddText("raw U+0001 in an id", command, With(ids[0], "\"u\u0001\""));
            AddText("escaped lone surrogate", command, With(ids[0], "\"u\\ud800\""));
            foreach (var (label, bytes) in InvalidUtf8)
            {
                Add($"invalid UTF-8 ({label})", command, Splice(With(ids[0], "\"us#er\""), bytes));
            }

            AddText("duplicate id field", command, valid.Replace("{", "{\"" + ids[0] + "\":\"x\",", StringComparison.Ordinal));
            AddText("body command differs from the URL", command, valid.Replace(command, command == "callbackAfterDeleteFriendCommand" ? "callbackAfterRemoveBlackCommand" : "callbackAfterDeleteFriendCommand", StringComparison.Ordinal));
        }

        var body = $$"""{"callbackCommand":"callbackAfterDeleteFriendCommand","ownerUserID":"a","friendUserID":"b"}""";
        AddText("body over 1 MiB", "callbackAfterDeleteFriendCommand", body.Replace("\"b\"", $"\"b\",\"pad\":\"{new string('x', 1024 * 1024)}\"", StringComparison.Ordinal));
        AddText("body of 3 MiB", "callbackAfterDeleteFriendCommand", body.Replace("\"b\"", $"\"b\",\"pad\":\"{new string('x', 3 * 1024 * 1024)}\"", StringComparison.Ordinal));
        if (key is not null)
        {
            AddText("wrong key", "callbackAfterDeleteFriendCommand", body, "/api/callbacks/openim/not-the-key/callbackAfterDeleteFriendCommand");
            AddText("key one character off", "callbackAfterDeleteFriendCommand", body, $"/api/callbacks/openim/{key[..^1]}x/callbackAfterDeleteFriendCommand");
            AddText("missing key (query form)", "callbackAfterDeleteFriendCommand", body, "/api/callbacks/openim",
                new Dictionary<string, string> { ["command"] = "callbackAfterDeleteFriendCommand" });
            AddText("missing key (body command only)", "callbackAfterDeleteFriendCommand", body, "/api/callbacks/openim");
        }

        return cases;
    }

    private static readonly (string Label, byte[] Bytes)[] InvalidUtf8 =
    [
        ("0xFF", [0xFF]),
        ("overlong 0xC0 0x80", [0xC0, 0x80]),
        ("truncated 0xE2 0x82", [0xE2, 0x82]),
        ("encoded surrogate 0xED 0xA0 0x80", [0xED, 0xA0, 0x80]),
    ];

    /// <summary>Replaces the '#' placeholder of <paramref name="text"/> with raw bytes.</summary>
    private static byte[] Splice(string text, byte[] bytes)
    {
        var at = text.IndexOf('#', StringComparison.Ordinal);
        return [.. Encoding.UTF8.GetBytes(text[..at]), .. bytes, .. Encoding.UTF8.GetBytes(text[(at + 1)..])];
    }

    private static Case OpenImValid(string? key, string owner) =>
        new("openim valid", $"/api/callbacks/openim{(key is null ? "" : "/" + key)}/callbackAfterDeleteFriendCommand", () => new Dictionary<string, string>(),
            Encoding.UTF8.GetBytes($$"""{"callbackCommand":"callbackAfterDeleteFriendCommand","ownerUserID":"{{owner}}","friendUserID":"{{owner}}-peer"}"""),
            "openim");

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "...";

    private static async Task WaitUntilDrainedAsync(Azure.Storage.Queues.QueueClient queue, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (await BenchQueues.ApproximateCountAsync(queue, cancellationToken) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200, cancellationToken);
        }
    }

    private static async Task<(long Queued, long History)> CountStoredAsync(string connectionString, string queueName, CancellationToken cancellationToken)
    {
        var queued = await BenchQueues.ApproximateCountAsync(BenchQueues.Get(connectionString, queueName), cancellationToken)
            + await BenchQueues.ApproximateCountAsync(BenchQueues.Get(connectionString, StorageQueueDrain.PoisonQueueName(queueName)), cancellationToken);
        var history = await StoredOnce.CountRowsAsync(
            StorageClients.FromConnectionString(connectionString).GetTableServiceClient().GetTableClient("RelationshipHistory"), cancellationToken);
        return (queued, history);
    }
}
