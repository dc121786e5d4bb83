using System.Text;
using System.Text.Json;
using FunctionApp.Core;

namespace FunctionApp.Protocols.Tencent;

/// <summary>Answers in Tencent's format: <c>{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}</c>, FAIL/1 on errors.</summary>
public static class TencentAnswers
{
    public const string ContentType = "application/json; charset=utf-8";

    // Answers are immutable records, so the fixed one is built once rather than per callback.
    private static readonly CallbackAnswer OkAnswer = Write(200, "OK", 0, "", null);

    public static CallbackAnswer Ok() => OkAnswer;

    /// <summary>The before-callbacks' answer: one ResultItem per item with ResultCode 0, so each operation proceeds.</summary>
    public static CallbackAnswer OkProceed(IEnumerable<string> toAccounts) => Write(200, "OK", 0, "", toAccounts);

    public static CallbackAnswer Fail(int statusCode, string errorInfo) => Write(statusCode, "FAIL", 1, errorInfo, null);

    private static CallbackAnswer Write(int statusCode, string actionStatus, int errorCode, string errorInfo, IEnumerable<string>? resultItems)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("ActionStatus", actionStatus);
            writer.WriteNumber("ErrorCode", errorCode);
            writer.WriteString("ErrorInfo", errorInfo);
            if (resultItems is not null)
            {
                writer.WriteStartArray("ResultItem");
                foreach (var toAccount in resultItems)
                {
                    writer.WriteStartObject();
                    writer.WriteString("To_Account", toAccount);
                    writer.WriteNumber("ResultCode", 0);
                    writer.WriteString("ResultInfo", "");
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        return new CallbackAnswer(statusCode, ContentType, Encoding.UTF8.GetString(buffer.ToArray()));
    }
}
