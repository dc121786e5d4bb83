using System.Text.Json.Serialization;
using FunctionApp.Core;

namespace FunctionApp.Api;

/// <summary>Source-generated JSON for every HTTP answer body (no reflection on the hot paths, fast startup).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(Page<EdgeView>))]
[JsonSerializable(typeof(Page<HistoryEntry>))]
[JsonSerializable(typeof(ProblemBody))]
[JsonSerializable(typeof(HealthReport))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
