"""The one error hierarchy. Every error a user can see is a ``YaosuError`` subclass.

Each class carries a stable ``code``, an HTTP ``status`` and a message template in
Chinese and English; the inputs that explain the error are kept in ``detail`` and
fill the template. ``yaosu.api`` turns any of them into the one JSON shape
``{"ok": false, "error": {"code", "message", "detail"}}``.
"""

from __future__ import annotations

from typing import Any, ClassVar

LOCALES = ("zh-CN", "en")


class YaosuError(Exception):
    code: ClassVar[str] = "YAOSU_ERROR"
    status: ClassVar[int] = 400
    zh: ClassVar[str] = "请求无法完成。"
    en: ClassVar[str] = "The request could not be completed."

    denial: Any = None  # set by authorization.enforce: what was refused, for the audit log

    def __init__(self, **detail: Any) -> None:
        self.detail = detail
        super().__init__(self.message("en"))

    def message(self, locale: str = "zh-CN") -> str:
        template = self.en if locale.startswith("en") else self.zh
        try:
            return template.format(**self.detail)
        except (KeyError, IndexError):  # a template must never turn an error into a crash
            return template


# --- generic -------------------------------------------------------------------------------


class NotFound(YaosuError):
    code = "NOT_FOUND"
    status = 404
    zh = "未找到{kind} {id}，或您无权查看。"
    en = "{kind} {id} was not found, or you may not see it."


class Conflict(YaosuError):
    code = "CONFLICT"
    status = 409
    zh = "{what}已存在：{value}。"
    en = "{what} already exists: {value}."


class Busy(YaosuError):
    code = "BUSY"
    status = 503
    zh = "系统繁忙，请稍后重试。"
    en = "The system is busy; try again shortly."


class Internal(YaosuError):
    code = "INTERNAL_ERROR"
    status = 500
    zh = "服务器内部错误，已记录（请求编号 {request_id}）。请联系平台管理员。"
    en = "Internal server error, logged (request {request_id}). Please contact the platform."


class InvalidInput(YaosuError):
    code = "VALIDATION_ERROR"
    status = 422
    zh = "输入有误：{problem}"
    en = "Invalid input: {problem}"


# --- accounts and authorisation ------------------------------------------------------------


class AuthRequired(YaosuError):
    code = "AUTH_REQUIRED"
    status = 401
    zh = "请先登录，或在 Authorization 头中提供 Bearer 令牌。"
    en = "Log in first, or send a Bearer token in the Authorization header."


class InvalidCredentials(YaosuError):
    code = "INVALID_CREDENTIALS"
    status = 401
    zh = "用户名或密码错误。"
    en = "Wrong username or password."


class InvalidToken(YaosuError):
    code = "INVALID_TOKEN"
    status = 401
    zh = "API 令牌无效、已过期或已被撤销，请重新创建令牌。"
    en = "The API token is invalid, expired or revoked; create a new one."


class LoginThrottled(YaosuError):
    """Too many failed logins for this account or from this address. The same answer whether
    or not the account exists; ``retry_after`` (seconds) also goes out as ``Retry-After``."""

    code = "LOGIN_THROTTLED"
    status = 429
    zh = "登录失败次数过多，已暂时锁定，请在 {retry_after} 秒后重试。"
    en = "Too many failed logins; locked for now. Try again in {retry_after} seconds."


class CsrfFailed(YaosuError):
    code = "CSRF_FAILED"
    status = 403
    zh = "表单已过期或来源不可信（CSRF 校验失败），请刷新页面后重试。"
    en = "The form expired or came from elsewhere (CSRF check failed); reload and try again."


class Forbidden(YaosuError):
    code = "FORBIDDEN"
    status = 403
    zh = "无权执行此操作：{reason_zh}"
    en = "Not allowed: {reason_en}"


class ScopeMissing(YaosuError):
    code = "SCOPE_MISSING"
    status = 403
    zh = "该 API 令牌缺少权限范围 {scope}。"
    en = "This API token lacks the scope {scope}."


# --- audit ---------------------------------------------------------------------------------


class LogCorrupt(YaosuError):
    code = "AUDIT_LOG_CORRUPT"
    status = 503
    zh = "审计日志完整性校验失败，已停止签发检查点，请立即通知平台与监管部门：{problem}"
    en = "The audit log failed its integrity check; checkpoints are stopped. Alert the platform and regulators: {problem}"


# --- ingest --------------------------------------------------------------------------------


class IngestError(YaosuError):
    """Base of every reason a file cannot become a dataset version."""

    status = 422


class FileTooLarge(IngestError):
    code = "FILE_TOO_LARGE"
    status = 413
    zh = "文件超过大小上限（{limit_mb} MB）。"
    en = "The file is larger than the limit ({limit_mb} MB)."


class EmptyFile(IngestError):
    code = "EMPTY_FILE"
    zh = "文件是空的。"
    en = "The file is empty."


class NoDataRows(IngestError):
    code = "NO_DATA_ROWS"
    zh = "文件只有表头，没有数据行。"
    en = "The file has a header but no data rows."


class UnsupportedFormat(IngestError):
    code = "UNSUPPORTED_FORMAT"
    status = 415
    zh = "不支持的文件格式“{extension}”。支持：CSV、TSV、XLSX、JSON、NDJSON、Parquet。"
    en = "Unsupported file format '{extension}'. Supported: CSV, TSV, XLSX, JSON, NDJSON, Parquet."


class FormatMismatch(IngestError):
    code = "FORMAT_MISMATCH"
    status = 415
    zh = "文件扩展名是“{extension}”，但内容是 {detected}。请改正扩展名后重新上传。"
    en = "The file is named '{extension}' but its content is {detected}. Fix the name and retry."


class UndetectableEncoding(IngestError):
    code = "UNDETECTABLE_ENCODING"
    zh = "无法识别文件编码（支持 UTF-8、GBK、GB18030）：第 {offset} 字节附近无法解码。"
    en = "Cannot detect the file's encoding (UTF-8, GBK, GB18030 supported): undecodable near byte {offset}."


class EncodingError(IngestError):
    code = "ENCODING_ERROR"
    zh = "文件按 {encoding} 编码读取，但后面的内容无法按该编码解码，文件可能混用了多种编码。"
    en = "The file reads as {encoding} but later bytes do not decode; it may mix encodings."


class RaggedRows(IngestError):
    code = "RAGGED_ROWS"
    zh = "第 {line} 行有 {got} 列，而表头有 {expected} 列。"
    en = "Row {line} has {got} columns but the header has {expected}."


class MalformedFile(IngestError):
    code = "MALFORMED_FILE"
    zh = "{format} 文件格式有误：{problem}"
    en = "The {format} file is malformed: {problem}"


class DuplicateColumns(IngestError):
    code = "DUPLICATE_COLUMNS"
    zh = "列名重复：{names}。每列需要唯一的名称。"
    en = "Duplicate column names: {names}. Every column needs a unique name."


class EmptyColumnName(IngestError):
    code = "EMPTY_COLUMN_NAME"
    zh = "第 {position} 列没有列名。"
    en = "Column {position} has no name."


class ZipBomb(IngestError):
    code = "ZIP_BOMB"
    status = 413
    zh = "XLSX 文件解压后过大（压缩比或解压大小超限），已拒绝。"
    en = "The XLSX file inflates too much (compression ratio or size over the limit); refused."


class CorruptFile(IngestError):
    code = "CORRUPT_FILE"
    zh = "{format} 文件已损坏或被截断，无法读取。"
    en = "The {format} file is corrupt or truncated and cannot be read."


class SheetNotFound(IngestError):
    code = "SHEET_NOT_FOUND"
    zh = "工作簿中没有名为“{sheet}”的工作表。现有工作表：{sheets}。"
    en = "The workbook has no sheet named '{sheet}'. Sheets: {sheets}."


class TooManyColumns(IngestError):
    code = "TOO_MANY_COLUMNS"
    zh = "文件至少有 {columns} 列，超过上限 {limit} 列（YAOSU_MAX_COLUMNS）。请拆分文件或只保留需要的列后重新上传。"
    en = (
        "The file has at least {columns} columns, more than the limit of {limit} "
        "(YAOSU_MAX_COLUMNS). Split the file or keep only the columns you need, then retry."
    )


class LineTooLong(IngestError):
    code = "LINE_TOO_LONG"
    zh = "第 {line} 行超过 {limit_mb} MB 的单行上限，无法作为表格的一行读取：文件可能缺少换行符，或不是逐行的表格文本。"
    en = (
        "Line {line} is longer than the {limit_mb} MB limit for one row: the file may lack "
        "line breaks, or not be line-by-line table text."
    )


class NotText(IngestError):
    code = "NOT_TEXT"
    status = 415
    zh = "文件名是“{extension}”，但内容不是文本（第 {offset} 字节是 NUL 等二进制字节）。如果是 UTF-16 文本，请另存为 UTF-8 后重新上传。"
    en = (
        "The file is named '{extension}' but its content is not text (byte {offset} is a NUL "
        "or other binary byte). If it is UTF-16 text, save it as UTF-8 and retry."
    )


class JsonNotRecords(IngestError):
    code = "JSON_NOT_RECORDS"
    zh = "JSON 文件的顶层是单个{kind}，不是表格：请提供由对象组成的数组（每个对象一行记录），或每行一个对象（NDJSON）。"
    en = (
        "The JSON file's top level is a single {kind_en}, not a table: provide an array of "
        "objects (one record each), or one object per line (NDJSON)."
    )


class InvalidFilename(IngestError):
    code = "INVALID_FILENAME"
    zh = "文件名无效：去掉控制字符和路径后为空。请用普通文件名（如 data.csv）重新上传。"
    en = "The file name is invalid: nothing is left once control characters and folders are removed. Retry with a plain name such as data.csv."


class BodyReadTimeout(YaosuError):
    code = "BODY_READ_TIMEOUT"
    status = 408
    zh = "请求体在 {seconds} 秒内没有继续到达，连接已关闭；未保存任何内容，请重新上传。"
    en = "The request body stopped arriving for {seconds} s; the connection was closed and nothing was kept. Upload again."


# --- background jobs -----------------------------------------------------------------------


class JobInterrupted(YaosuError):
    code = "JOB_INTERRUPTED"
    status = 409
    zh = "后台任务 {id} 因服务重启中断了 {attempts} 次，已停止重试；没有留下任何部分结果，可重新提交。"
    en = (
        "Background job {id} was interrupted by a restart {attempts} times and will not be "
        "retried; nothing partial was kept, and it can be submitted again."
    )


class JobCancelled(YaosuError):
    code = "JOB_CANCELLED"
    status = 409
    zh = "后台任务 {id} 已按请求取消；没有留下任何部分结果。"
    en = "Background job {id} was cancelled on request; nothing partial was kept."


class JobFinished(YaosuError):
    code = "JOB_FINISHED"
    status = 409
    zh = "后台任务 {id} 已结束（{status}），不能再取消。"
    en = "Background job {id} has already ended ({status}) and cannot be cancelled."


# --- governed use --------------------------------------------------------------------------


class QueryRefused(YaosuError):
    code = "QUERY_REFUSED"
    status = 403
    zh = "查询被拒绝：{reason_zh}"
    en = "The query was refused: {reason_en}"


class QueryFailed(YaosuError):
    code = "QUERY_FAILED"
    status = 422
    zh = "查询执行失败（{what_zh}）；未扣减任何额度。"
    en = "The query failed while running ({what_en}); nothing was charged."


class QueryInvalid(QueryRefused):
    """A query refused for its form before it runs (it does not parse, mixes types, nests too
    deeply): 422, and nothing is charged."""

    code = "QUERY_INVALID"
    status = 422
    zh = "查询无法执行：{reason_zh}"
    en = "The query cannot run: {reason_en}"


class QueryFailedCharged(QueryFailed):
    """A failure that happened while the query read the data: whether it fails can depend on
    the data, so it is not refunded (a free failure would be an oracle)."""

    code = "QUERY_FAILED_CHARGED"
    zh = (
        "查询在读取数据时失败（{what_zh}）。失败与否可能取决于数据内容，"
        "为防止借失败探测数据，本次使用和 ε 已计入，不予退还。"
    )
    en = (
        "The query failed while reading the data ({what_en}). Whether it fails can depend on "
        "the data, so to keep failures from revealing it, this use and its ε were charged and "
        "are not refunded."
    )


# --- privacy -------------------------------------------------------------------------------


class StillPersonal(YaosuError):
    """A reviewer tried to declare a de-identified (not anonymised) version free of personal
    information."""

    code = "DEIDENTIFIED_STILL_PERSONAL"
    status = 422
    zh = (
        "版本 {version} 是去标识化数据，仍属个人信息（《个人信息保护法》第七十三条）：{reasons_zh}。"
        "只有符合匿名化标准（{standard_zh}，k≥{k}、l≥{l}）的版本才能认定为不含个人信息；"
        "请改进去标识化方案后重新生成版本。"
    )
    en = (
        "Version {version} is de-identified, which is still personal information (PIPL Art. 73): "
        "{reasons_en}. Only a version that meets the anonymisation standard ({standard_en}, "
        "k>={k}, l>={l}) counts as free of personal information; improve the recipe and derive "
        "a new version."
    )
