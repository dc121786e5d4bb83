using System.Text;
using System.Text.Json;
using FunctionApp.Core;

namespace FunctionApp.Protocols.OpenIm;

/// <summary>
/// Answers in OpenIM's format: <c>{"actionCode":0,"errCode":0,"errMsg":"","errDlt":"","nextCode":0}</c> lets the
/// operation go ahead; errors carry actionCode 1 and an errCode in 20001-29999 (see <see cref="CallbackProblems"/>).
/// </summary>
public static class OpenImAnswers
{
    public const string ContentType = "application/json; charset=utf-8";

    public static CallbackAnswer Ok() => Write(200, 0, 0, "", "");

    public static CallbackAnswer Error(CallbackProblemKind kind, string message, string detail) =>
        Write(CallbackProblems.HttpStatus(kind), 1, CallbackProblems.OpenImErrorCode(kind), message, detail);

    private static CallbackAnswer Write(int statusCode, int actionCode, int errCode, string errMsg, string errDlt)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("actionCode", actionCode);
            writer.WriteNumber("errCode", errCode);
            writer.WriteString("errMsg", errMsg);
            writer.WriteString("errDlt", errDlt);
            writer.WriteNumber("nextCode", 0);
            writer.WriteEndObject();
        }

        return new CallbackAnswer(statusCode, ContentType, Encoding.UTF8.GetString(buffer.ToArray()));
    }
}
