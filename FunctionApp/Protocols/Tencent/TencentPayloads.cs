namespace FunctionApp.Protocols.Tencent;

/// <summary><c>Sns.CallbackFriendAdd</c>: To_Account was added to From_Account's friend list, per pair.</summary>
public sealed record TencentFriendAddCallback(
    IReadOnlyList<TencentFriendAddPair> PairList,
    string? ClientCmd,
    string? AdminAccount,
    long? ForceFlag);

public sealed record TencentFriendAddPair(string FromAccount, string ToAccount, string? InitiatorAccount);

/// <summary>
/// <c>Sns.CallbackFriendDelete</c>, <c>Sns.CallbackBlackListAdd</c>, <c>Sns.CallbackBlackListDelete</c>:
/// To_Account left or entered From_Account's friend list or blocklist, per pair.
/// </summary>
public sealed record TencentPairListCallback(IReadOnlyList<TencentAccountPair> PairList);

public sealed record TencentAccountPair(string FromAccount, string ToAccount);

/// <summary><c>Sns.CallbackPrevFriendAdd</c>: From_Account is about to ask each FriendItem's To_Account to be friends.</summary>
public sealed record TencentPrevFriendAddCallback(
    string? RequesterAccount,
    string FromAccount,
    IReadOnlyList<TencentFriendItem> FriendItem,
    string? AddType,
    long? ForceAddFlags,
    long? EventTime);

public sealed record TencentFriendItem(string ToAccount, string? Remark, string? GroupName, string? AddSource, string? AddWording);

/// <summary><c>Sns.CallbackPrevFriendResponse</c>: From_Account is about to answer each requester (To_Account).</summary>
public sealed record TencentPrevFriendResponseCallback(
    string? RequesterAccount,
    string FromAccount,
    IReadOnlyList<TencentResponseFriendItem> ResponseFriendItem,
    long? EventTime);

public sealed record TencentResponseFriendItem(string ToAccount, string? Remark, string? TagName, string? ResponseAction);
