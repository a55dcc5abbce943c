"""Vietnamese (tiếng Việt): every key of bot.messages.ENGLISH with the same placeholders, and the names Discord
shows a Vietnamese member for each command and option.

How it is written: the bot says "mình" and calls the member "bạn", as Vietnamese Discord servers talk; a job is a
"yêu cầu" (what the member asked for), the clip a "video"; the words members already use stay as they are (credit,
seed, preset, mod, GPU, fps). Vietnamese has no plural forms of words, so no entry is a Plural. A message that names
a command names it as a Vietnamese member's Discord shows it (`/yêu-cầu danh-sách`), which the tests check against
VIETNAMESE_NAMES.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.plurals import Catalogue

_SOMETHING_WENT_WRONG = "Có lỗi xảy ra ở phía mình và chưa có gì bị thay đổi. Bạn thử lại sau giây lát nhé."

VIETNAMESE: Catalogue = {
    # /video: refusals (always ephemeral)
    "guild_only": "Mình chỉ làm video trong máy chủ, không làm trong tin nhắn trực tiếp.",
    "bot.missing_permissions": (
        "Mình không đăng được video trong kênh này vì thiếu quyền {permissions}. "
        "Bạn hãy nhờ quản trị viên máy chủ cấp quyền, hoặc thử kênh khác. Bạn chưa bị trừ credit nào."
    ),
    "prompt.empty": "Bạn hãy mô tả video bạn muốn làm: phần {field} không được để trống.",
    "prompt.too_long": "Phần {field} dài quá: bạn hãy viết dưới {limit} ký tự nhé.",
    "prompt.not_text": "Phần {field} phải là văn bản.",
    "prompt.control_characters": "Phần {field} có ký tự điều khiển ẩn. Bạn hãy gõ lại bằng văn bản thường nhé.",
    "seed.out_of_range": "Seed phải là số nguyên từ 0 đến {maximum}.",
    "preset.unavailable": "Bot này không có preset `{preset}`. Các preset hiện có: {served}.",
    "quota.exhausted": (
        "Bạn đã dùng hết credit làm video hôm nay: video này cần {cost} credit mà bạn chỉ còn {credits_left}. "
        "Credit của bạn sẽ được làm mới {resets_at}. Cảm ơn bạn đã kiên nhẫn!"
    ),
    "member.banned": "Bạn không thể làm video trong máy chủ này: một mod đã tắt quyền này của bạn.",
    "jobs.too_many_active": (
        "Bạn đã có {limit} video đang chờ hoặc đang được tạo. Bạn đợi một video xong rồi thử lại nhé."
    ),
    "cooldown": "Bạn nghỉ tay một chút giữa các video nhé: bạn có thể gửi video tiếp theo {until}.",
    "error.unexpected": "Có lỗi xảy ra ở phía mình và bạn chưa bị trừ credit nào. Bạn thử lại sau giây lát nhé.",
    # /video: the requester's status message
    "status.queued": (
        "Đã xếp **yêu cầu #{job_id}** vào hàng đợi · vị trí thứ {position}\n"
        "{estimate}\n"
        "{cost_line}\n"
        "Video xong là mình đăng ngay trong kênh này. {updates}"
    ),
    "status.cost": "Chi phí: {cost} credit · hôm nay còn {credits_left} credit (làm mới {resets_at})",
    "status.cost_unlimited": "Chi phí: {cost} credit · vai trò của bạn không giới hạn credit",
    "status.estimate": "Dự kiến bắt đầu {starts_at} · xong {finishes_at}",
    "status.estimating": "Dự kiến bắt đầu và xong: đang ước tính (chưa có đủ video gần đây để dựa vào)",
    "status.updates_until": (
        "Tin nhắn này tự cập nhật đến {until}; sau đó, bạn xem tình trạng yêu cầu bằng `/yêu-cầu danh-sách`."
    ),
    "status.rendering": (
        "Đang tạo video cho **yêu cầu #{job_id}**: bước {step}/{total}\n"
        "`{bar}` {percent}% · đã chạy {elapsed}\n{updates}"
    ),
    "status.delivered": "Xong rồi! **Yêu cầu #{job_id}** đã được đăng: {link}",
    "status.failed": "**Yêu cầu #{job_id}** không thành công: {reason}. {refund}",
    "status.cancelled": "**Yêu cầu #{job_id}** đã bị hủy. {refund}",
    "status.refunded": "Mình đã hoàn lại {credits} credit cho bạn.",
    "status.nothing_to_refund": "Bạn chưa bị trừ credit nào.",
    "status.cancel_button": "Hủy",
    # /jobs and the Cancel button
    "jobs.title": "**{count} yêu cầu gần nhất của bạn trong máy chủ này**, từ mới đến cũ:",
    "jobs.line": "**#{job_id}** · {state} · {created_at} · {prompt}",
    "jobs.empty": "Bạn chưa làm video nào trong máy chủ này.",
    "state.queued": "đang chờ",
    "state.running": "đang tạo",
    "state.rendered": "đang đăng",
    "state.delivered": "đã đăng",
    "state.failed": "không thành công",
    "state.cancelled": "đã hủy",
    "cancel.cancelled": "Đã hủy **yêu cầu #{job_id}** và hoàn lại credit cho bạn.",
    "cancel.stopping": (
        "Đang dừng **yêu cầu #{job_id}**: việc tạo video sẽ dừng trong vòng một bước, rồi credit được hoàn lại."
    ),
    "cancel.no_such_job": "Không tìm thấy yêu cầu #{job_id}.",
    "cancel.not_yours": (
        "**Yêu cầu #{job_id}** không phải của bạn: chỉ người gửi yêu cầu, hoặc mod của máy chủ đó, mới hủy được."
    ),
    "jobs.error": _SOMETHING_WENT_WRONG,
    "cancel.finished": "**Yêu cầu #{job_id}** đã kết thúc rồi nên không còn gì để hủy.",
    # the public post
    "post.content": "{mention}, video của bạn xong rồi!",
    "post.title": "Video do AI tạo · yêu cầu #{job_id}",
    "post.requested_by": "Người yêu cầu",
    "post.model": "Mô hình",
    "post.model_value": "{model} của {authors}",
    "post.licence": "Giấy phép",
    "post.preset": "Preset",
    "post.seed": "Seed",
    "post.clip": "Thông số",
    "post.clip_value": "{frames} khung hình · {fps} fps · {width}×{height} · {steps} bước",
    "post.render_time": "Thời gian tạo",
    "post.footer": "Do AI tạo · yêu cầu #{job_id} · thông tin ghi công được lưu ngay trong tệp MP4",
    "post.clip_encoded": (
        "{frames} khung hình · {fps} fps · {width}×{height} · {steps} bước (tạo ở kích thước {rendered})"
    ),
    # why a job failed: one per common.failures.FailureCode, with the details it names
    "failure.cancelled": "yêu cầu đã bị hủy",
    "failure.out_of_memory": "GPU hết bộ nhớ; bạn thử ít khung hình hơn, kích thước nhỏ hơn hoặc một preset nhẹ hơn",
    "failure.render_error": "việc tạo video gặp lỗi",
    "failure.gpu_error": "GPU gặp lỗi nên mô hình video đang khởi động lại",
    "failure.encode_error": "không mã hóa được video",
    "failure.preset_not_served": "bot không còn hỗ trợ preset `{preset_id}`",
    "failure.worker_crashed": "tiến trình tạo video dừng đột ngột",
    "failure.worker_stalled": "tiến trình tạo video không còn phản hồi",
    "failure.worker_shut_down": "bot đã tắt trước khi tạo xong video",
    "failure.worker_unavailable": "mô hình video hiện không sẵn sàng",
    "failure.too_many_attempts": (
        "việc tạo video làm mô hình ngừng chạy ở mọi lần thử (tổng cộng {attempts} lần), nên mình không thử lại nữa"
    ),
    "failure.no_file": "việc tạo video không cho ra tệp nào",
    "failure.channel_unreachable": "mình không đăng được trong kênh đó (thiếu quyền truy cập hoặc quyền đăng)",
    "failure.upload_too_large": "video làm ra lớn hơn mức Discord cho phép ở đây",
    "failure.upload_refused": "Discord từ chối tệp tải lên ({status})",
    "failure.delivery_gave_up": "Discord liên tục từ chối tệp tải lên",
    "failure.unknown": "{text}",
    # /quota me and /quota show
    "quota.me": (
        "**Credit làm video của bạn trong máy chủ này**\n{credits}\n"
        "Yêu cầu đang xử lý: {active}/{max_active} · {default_cost}"
    ),
    "quota.default_cost": "video mặc định tốn {cost} credit",
    "quota.show": (
        "**{member}**\n{credits}\nYêu cầu đang xử lý: {active}/{max_active} · hạn mức riêng: {override} · {ban}"
    ),
    "quota.credits": "còn {left}/{allowance} credit ({window}) · có thêm {resets_at}",
    "quota.unlimited": "Không giới hạn credit (vai trò không giới hạn)",
    "quota.banned": "**Bị cấm** làm video",
    "quota.not_banned": "không bị cấm",
    "window.daily": "làm mới hằng ngày lúc {hour:02d}:00 UTC",
    "window.rolling": "tính theo 24 giờ gần nhất",
    # moderators
    "mod.denied": "Chỉ mod mới làm được việc này: cần quyền Quản lý máy chủ hoặc vai trò mod của máy chủ này.",
    "mod.denied_manage_server": "Chỉ thành viên có quyền Quản lý máy chủ mới chọn được vai trò mod.",
    "mod.done": "Xong: {change}.",
    "amount.invalid": "`{field}` phải là số nguyên từ {minimum} đến {maximum}. Chưa có gì bị thay đổi.",
    "reason.too_long": "Lý do phải ngắn hơn {limit} ký tự. Chưa có gì bị thay đổi.",
    "choice.invalid": "`{field}` phải là một trong các giá trị {choices}. Chưa có gì bị thay đổi.",
    "mod.error": _SOMETHING_WENT_WRONG,
    "value.none": "không có",
    "audit.title": "**Hoạt động của mod**, từ mới đến cũ:",
    "audit.line": "{when} {actor}: {change}",
    "audit.empty": "Chưa có hoạt động nào của mod.",
    "audit.older": "Cũ hơn",
    "audit.newest": "Mới nhất",
    "audit.set_default": "hạn mức mặc định {before} → {after} credit",
    "audit.set_role": "hạn mức của {target} {before} → {after}",
    "audit.set_member": "hạn mức riêng của {target} {before} → {after}",
    "audit.grant": "đã tặng {target} {after} credit trong chu kỳ hiện tại",
    "audit.reset": "đã đặt lại chu kỳ của {target} (hoàn lại {before} credit đã dùng)",
    "audit.window": "chu kỳ hạn mức {before} → {after}",
    "audit.ban": "đã cấm {target} làm video ({after})",
    "audit.unban": "đã cho {target} làm video trở lại",
    "audit.moderator_role": "vai trò mod {before} → {after}",
    # command descriptions shown in Discord (at most 100 characters each)
    "command.video": "Biến một đoạn mô tả thành video ngắn do AI tạo",
    "option.prompt": "Trong video sẽ diễn ra điều gì?",
    "option.negative_prompt": "Những gì video nên tránh",
    "option.seed": "Một con số để có thể tạo lại đúng kết quả",
    "option.preset": "Mô hình nào sẽ tạo video",
    "command.quota": "Credit làm video: của bạn, và (với mod) cài đặt hạn mức của máy chủ",
    "command.quota.me": "Bạn còn bao nhiêu credit làm video, và khi nào có thêm",
    "command.quota.show": "Credit, giới hạn và tình trạng bị cấm của một thành viên (mod)",
    "command.quota.set_default": "Hạn mức mỗi chu kỳ cho từng thành viên của máy chủ (mod)",
    "command.quota.set_role": "Hạn mức của một vai trò; bỏ trống cả hai tùy chọn để gỡ (mod)",
    "command.quota.set_member": "Hạn mức riêng của một thành viên; bỏ trống credit để xóa (mod)",
    "command.quota.grant": "Tặng thêm credit cho một thành viên trong chu kỳ hiện tại (mod)",
    "command.quota.reset": "Hoàn lại số credit một thành viên đã dùng trong chu kỳ hiện tại (mod)",
    "command.quota.window": "Làm mới hằng ngày vào một giờ UTC, hoặc tính theo 24 giờ gần nhất (mod)",
    "command.jobs": "Các yêu cầu làm video của bạn",
    "command.jobs.list": "10 yêu cầu gần nhất của bạn trong máy chủ này và tình trạng của chúng",
    "command.jobs.cancel": "Hủy một yêu cầu đang chờ hoặc đang tạo của bạn (mod: của bất kỳ ai)",
    "option.job": "Mã của yêu cầu, như trong tin nhắn trạng thái hoặc /yêu-cầu danh-sách",
    "command.mod": "Công cụ cho mod của bot video",
    "command.mod.ban": "Không cho một thành viên làm video nữa",
    "command.mod.unban": "Cho một thành viên làm video trở lại",
    "command.mod.audit": "Các hoạt động gần đây của mod",
    "command.mod.role": "Vai trò mod: ai có vai trò này được coi là mod; bỏ trống để xóa",
    "option.member": "Thành viên",
    "option.role": "Vai trò",
    "option.credits": "Số credit mỗi chu kỳ",
    "option.unlimited": "Không giới hạn credit cho vai trò này",
    "option.grant_credits": "Số credit tặng thêm",
    "option.window": "Credit được làm mới theo cách nào",
    "option.reset_hour": "Với chu kỳ hằng ngày: giờ làm mới (UTC, 0-23)",
    "option.reason": "Lý do (chỉ mod thấy)",
    # several models
    "option.preset_choice": "{preset} · {cost} credit cho video mặc định",
    "status.loaded": (
        "Đang tạo video cho **yêu cầu #{job_id}**: tải mô hình mất {took}; bước đầu tiên đang chạy\n{updates}"
    ),
    "failure.model_load_failed": "không tải được mô hình cho video này; bạn thử lại sau giây lát nhé",
    # /queue
    "command.queue": "Hàng đợi video của máy chủ: xem, tạm dừng, ưu tiên vai trò (mod)",
    "command.queue.show": "Yêu cầu đang chờ và đang tạo của mọi người ở đây, theo thứ tự được xử lý",
    "command.queue.pause": "Từ chối yêu cầu /video mới và giữ các yêu cầu đang chờ; video đang tạo vẫn làm xong",
    "command.queue.resume": "Nhận yêu cầu /video trở lại và tạo các video đang chờ",
    "command.queue.priority": "Cho thành viên của một vai trò thêm lượt mỗi vòng trong hàng đợi; trọng số 1 là gỡ bỏ",
    "option.weight": "Số lượt mỗi vòng cho thành viên của vai trò (1 đến 10; 1 là mức của mọi người)",
    "queue.paused": (
        "Các mod đang tạm dừng nhận yêu cầu video trong máy chủ này nên mình chưa nhận yêu cầu này được. "
        "Bạn thử lại sau nhé. Bạn chưa bị trừ credit nào."
    ),
    "queue.already_paused": "Hàng đợi đang tạm dừng rồi. Chưa có gì bị thay đổi.",
    "queue.not_paused": "Hàng đợi không bị tạm dừng. Chưa có gì bị thay đổi.",
    "queue.title": (
        "**Hàng đợi video trong máy chủ này**: {total} yêu cầu đang chờ hoặc đang tạo · trang {page}/{pages}"
    ),
    "queue.paused_note": (
        "**Đang tạm dừng**: yêu cầu /video mới bị từ chối, còn các yêu cầu đang chờ giữ nguyên chỗ cho đến khi có lệnh "
        "`/hàng-đợi tiếp-tục`."
    ),
    "queue.empty": "Không có yêu cầu nào đang chờ hoặc đang tạo trong máy chủ này.",
    "queue.line": "`#{job_id}` · vị trí {position} · {member} · `{preset}` · {state} · {age}",
    "queue.previous": "Trước",
    "queue.next": "Tiếp",
    "audit.queue_pause": "đã tạm dừng hàng đợi (từ chối yêu cầu mới, giữ các yêu cầu đang chờ)",
    "audit.queue_resume": "đã cho hàng đợi chạy tiếp",
    "audit.queue_priority": "ưu tiên hàng đợi của {target} {before} → {after} lượt mỗi vòng",
    # /gallery, the Star button and the gallery channel
    "command.gallery": "Bộ sưu tập video của máy chủ: xem, thả sao, hoặc rút video của bạn ra",
    "command.gallery.recent": "Những video mới nhất trong bộ sưu tập của máy chủ",
    "command.gallery.top": "Những video được nhiều sao nhất trong bộ sưu tập của máy chủ",
    "command.gallery.member": "Video của một thành viên trong bộ sưu tập của máy chủ",
    "command.gallery.optout": "Rút mọi video của bạn, kể cả video làm sau này, khỏi bộ sưu tập của máy chủ",
    "command.gallery.optin": "Đưa video của bạn trở lại bộ sưu tập của máy chủ",
    "command.gallery.delete": "Xóa một video của bạn khỏi bộ sưu tập, cùng các tệp của nó trên bot",
    "command.gallery.settings": "Xem hoặc đổi cài đặt bộ sưu tập: có lên web không, địa chỉ web, kênh (mod)",
    "command.gallery.hide": "Ẩn một video khỏi bộ sưu tập (mod)",
    "command.gallery.unhide": "Đưa một video đã ẩn trở lại bộ sưu tập (mod)",
    "option.public": "Cho ai có liên kết xem bộ sưu tập trên web (true), hoặc giữ riêng tư (false)",
    "option.gallery_channel": "Một kênh mà mọi video mới cũng được đăng vào",
    "option.clear_channel": "Ngừng đăng video mới vào kênh bộ sưu tập",
    "option.new_link": "Đổi địa chỉ mới cho bộ sưu tập trên web: mọi liên kết cũ sẽ không dùng được nữa",
    "gallery.recent_title": "**Video mới nhất trong bộ sưu tập của máy chủ** · trang {page}",
    "gallery.top_title": "**Video nhiều sao nhất trong bộ sưu tập của máy chủ** · trang {page}",
    "gallery.member_title": "**Video của {member} trong bộ sưu tập của máy chủ** · trang {page}",
    "gallery.line": "**#{job_id}** · ⭐ {stars} · của {creator}{links}\n> {prompt}",
    "gallery.post_link": "[bài đăng trên Discord](<{url}>)",
    "gallery.web_link": "[trang web](<{url}>)",
    "gallery.recent_empty": "Bộ sưu tập của máy chủ chưa có video nào: bạn hãy làm video đầu tiên bằng `/video`!",
    "gallery.top_empty": "Chưa video nào trong bộ sưu tập được thả sao: bạn hãy bấm ⭐ dưới video bạn thích nhé.",
    "gallery.member_empty": "{member} chưa có video nào trong bộ sưu tập của máy chủ.",
    "gallery.past_end": "Ở đây không còn gì nữa: danh sách đã ngắn lại từ lúc trang này hiện ra.",
    "gallery.previous": "Trước",
    "gallery.next": "Tiếp",
    "star.label": "⭐ {stars}",
    "star.label_none": "⭐ Thả sao",
    "star.starred": "Bạn đã thả sao cho **yêu cầu #{job_id}**: giờ video có {stars} sao. Bấm lần nữa để rút lại.",
    "star.unstarred": "Bạn đã rút lại sao của mình khỏi **yêu cầu #{job_id}**.",
    "gallery.cross_post": "Video mới trong bộ sưu tập: **yêu cầu #{job_id}** của {creator}",
    "gallery.opted_out": (
        "Xong: video của bạn đã rời bộ sưu tập của máy chủ (danh sách, trang web và kênh bộ sưu tập), và video mới "
        "sẽ không được thêm vào. Các bài đăng trên Discord của bạn vẫn còn nguyên. `/bộ-sưu-tập tham-gia` sẽ đưa "
        "video trở lại danh sách và trang web."
    ),
    "gallery.already_opted_out": (
        "Video của bạn vốn đã ở ngoài bộ sưu tập của máy chủ. `/bộ-sưu-tập tham-gia` sẽ đưa chúng trở lại."
    ),
    "gallery.opted_in": (
        "Chào mừng bạn trở lại: video của bạn đã có lại trong bộ sưu tập của máy chủ, và video mới cũng sẽ được "
        "thêm vào."
    ),
    "gallery.already_opted_in": "Video của bạn vẫn đang có trong bộ sưu tập của máy chủ.",
    "gallery.deleted": (
        "Đã xóa **yêu cầu #{job_id}** khỏi bộ sưu tập, cùng các tệp của nó trên bot. Credit đã dùng không được hoàn "
        "lại, và bài đăng trên Discord vẫn còn cho đến khi bạn tự xóa."
    ),
    "gallery.not_in_gallery": "Không có video #{job_id} trong bộ sưu tập của máy chủ.",
    "gallery.delete_not_yours": (
        "**Yêu cầu #{job_id}** không phải của bạn: chỉ người làm ra video mới xóa được nó khỏi bộ sưu tập."
    ),
    "gallery.already_hidden": "**Yêu cầu #{job_id}** đã bị ẩn rồi. Chưa có gì bị thay đổi.",
    "gallery.not_hidden": "**Yêu cầu #{job_id}** không bị ẩn. Chưa có gì bị thay đổi.",
    "gallery.error": _SOMETHING_WENT_WRONG,
    "gallery.settings": "**Bộ sưu tập của máy chủ này**\n{visibility}\nKênh bộ sưu tập: {channel}",
    "gallery.settings_public": "Công khai: ai có liên kết đều xem được tại <{address}>",
    "gallery.settings_public_no_web": "Công khai, nhưng bot này không chạy bộ sưu tập trên web để hiển thị",
    "gallery.settings_private": (
        "Riêng tư: chỉ trong Discord (`/bộ-sưu-tập cài-đặt công_khai:true` sẽ đưa bộ sưu tập lên web)"
    ),
    "gallery.settings_conflict": "Bạn hãy chọn một kênh hoặc `bỏ_kênh`, đừng chọn cả hai. Chưa có gì bị thay đổi.",
    "gallery.channel_missing_permissions": (
        "Mình không đăng được video trong {channel} vì thiếu quyền {permissions}. Bạn hãy cấp quyền, hoặc chọn kênh "
        "khác. Chưa có gì bị thay đổi."
    ),
    "button.other_server": "Nút này thuộc về một máy chủ khác.",
    "value.public": "công khai",
    "value.private": "riêng tư",
    "audit.gallery_public": "bộ sưu tập {before} → {after}",
    "audit.gallery_link": "đã đổi địa chỉ mới cho bộ sưu tập trên web (mọi liên kết cũ không còn dùng được)",
    "audit.gallery_channel": "kênh bộ sưu tập {before} → {after}",
    "audit.gallery_hide": "đã ẩn yêu cầu #{target} khỏi bộ sưu tập",
    "audit.gallery_unhide": "đã đưa yêu cầu #{target} trở lại bộ sưu tập",
    # words other messages are made of: a prompt field, a choice, a duration, a channel permission
    "field.prompt": "mô tả",
    "field.negative_prompt": "loại trừ",
    "choice.window.daily": "hằng ngày",
    "choice.window.rolling": "24 giờ gần nhất",
    "time.seconds": "{seconds} giây",
    "time.minutes": "{minutes} phút {seconds} giây",
    "permission.view_channel": "Xem kênh",
    "permission.send_messages": "Gửi tin nhắn",
    "permission.send_messages_in_threads": "Gửi tin nhắn trong chủ đề",
    "permission.attach_files": "Đính kèm tập tin",
    "permission.embed_links": "Nhúng liên kết",
    # /video's options, their refusals and the prompt's flags
    "option.aspect": "Khung hình: ngang, dọc hoặc vuông",
    "option.duration": "Độ dài video, tính bằng giây (có gợi ý các độ dài mà preset làm được)",
    "option.steps": "Số bước khử nhiễu: ít thì nhanh và rẻ hơn, nhiều thì mịn hơn (mỗi preset có giới hạn riêng)",
    "choice.aspect.16:9": "16:9 ngang",
    "choice.aspect.9:16": "9:16 dọc",
    "choice.aspect.1:1": "1:1 vuông",
    "option.preset_described": "{preset}: {description} · {cost} credit",
    "option.duration_choice": "{seconds} · {frames} khung hình, {fps} fps · {credits}",
    "value.seconds": "{seconds} giây",
    "value.credits": "{credits} credit",
    "aspect.unavailable": "`{preset}` không làm được video khung hình `{aspect}`. Bạn hãy chọn một trong: {aspects}.",
    "duration.unavailable": (
        "`{preset}` không làm được video dài như vậy. Bạn hãy chọn độ dài (tính bằng giây) trong số: {allowed}."
    ),
    "duration.none": "`{preset}` không làm được video có độ dài tròn giây nào: bạn hãy bỏ trống phần độ dài.",
    "steps.out_of_range": (
        "`{preset}` chạy từ {minimum} đến {maximum} bước: bạn hãy chọn một số nguyên trong khoảng đó."
    ),
    "flag.without_value": "`{flag}` trong mô tả của bạn cần một giá trị đi sau, ví dụ `--seed 42` hoặc `--ar 9:16`.",
    "video.first_answer": "Video này tốn **{cost} credit**. Đang đưa vào hàng đợi…",
    "video.settings_title": "Thông số video của bạn",
    "video.setting_preset": "Preset",
    "video.setting_size": "Khung hình và kích thước",
    "video.setting_duration": "Độ dài",
    "video.setting_steps": "Số bước",
    "video.setting_seed": "Seed",
    "video.setting_negative_prompt": "Tránh",
    "video.setting_flags": "Lấy từ mô tả của bạn",
    "video.size_value": "{aspect} · {width}×{height}",
    "video.duration_value": "{seconds} · {frames} khung hình, {fps} fps",
    "flag.applied": "`{flag}`: đã áp dụng",
    "flag.ignored_option": "`{flag}`: bỏ qua, vì bạn đã tự chọn `{option}`",
    "flag.ignored_repeated": "`{flag}`: bỏ qua, vì một tham số phía sau cũng đặt `{option}`",
    "flag.unknown": "`{flag}`: mình không biết tham số này, nên nó vẫn nằm trong mô tả",
    # the buttons on every posted clip: Reroll, Details, Delete
    "clip.reroll": "🎲 Tạo lại",
    "clip.details": "Chi tiết",
    "clip.delete": "Xóa",
    "clip.gone": "Video đó không còn nữa: **yêu cầu #{job_id}** không còn tồn tại.",
    "clip.error": _SOMETHING_WENT_WRONG,
    "reroll.in_flight": (
        "Mình đang tạo lại **yêu cầu #{job_id}** cho bạn rồi: bấm một lần là đủ, bạn không bị trừ thêm credit nào."
    ),
    "reroll.withdrawn": (
        "**Yêu cầu #{job_id}** đã bị gỡ khỏi bộ sưu tập nên không thể tạo lại. Bạn chưa bị trừ credit nào."
    ),
    "details.title": "Yêu cầu #{job_id} · chi tiết",
    "details.prompt": "Mô tả",
    "details.negative_prompt": "Loại trừ",
    "details.command": "Sao chép thành lệnh",
    "details.no_command": "Bot này không còn preset `{preset}`, nên không có lệnh nào tạo lại được video này.",
    "details.guidance": "Độ bám mô tả (guidance)",
    "details.encode_time": "Thời gian mã hóa",
    "details.gallery": "Bộ sưu tập",
    "details.gallery_link": "[Trang của video trong bộ sưu tập trên web]({url})",
    "details.withdrawn": (
        "**Yêu cầu #{job_id}** đã bị gỡ khỏi bộ sưu tập: chỉ người làm ra video và mod của máy chủ này mới xem được "
        "chi tiết."
    ),
    "delete.confirm_own": (
        "Xóa **yêu cầu #{job_id}**? Bài đăng sẽ biến mất với mọi người, video rời khỏi bộ sưu tập và các tệp của nó "
        "bị xóa vĩnh viễn. Credit đã dùng không được hoàn lại."
    ),
    "delete.confirm_moderator": (
        "Xóa bài đăng của **yêu cầu #{job_id}** do {creator} tạo? Bài đăng sẽ biến mất với mọi người, còn video bị "
        "ẩn khỏi bộ sưu tập (`/bộ-sưu-tập bỏ-ẩn` đưa nó trở lại; `/mod nhật-ký` ghi lại việc này)."
    ),
    "delete.confirm_button": "Xóa",
    "delete.keep_button": "Giữ lại",
    "delete.kept": "Đã giữ lại **yêu cầu #{job_id}**: không có gì bị xóa.",
    "delete.deleted_own": (
        "Đã xóa **yêu cầu #{job_id}**: bài đăng, chỗ của nó trong bộ sưu tập và các tệp đều không còn nữa. "
        "Credit đã dùng không được hoàn lại."
    ),
    "delete.deleted_moderator": "Đã xóa bài đăng của **yêu cầu #{job_id}**, và video đã bị ẩn khỏi bộ sưu tập.",
    "delete.not_yours": (
        "**Yêu cầu #{job_id}** không phải của bạn: chỉ người làm ra video, hoặc mod của máy chủ này, mới xóa được."
    ),
    "delete.post_gone": "Bài đăng của **yêu cầu #{job_id}** đã bị xóa rồi: không còn gì để xóa.",
    # the live preview
    "status.preview": "Xem trước sơ bộ phần giữa video sau bước {step}: video hoàn chỉnh sẽ nét hơn.",
    # server safety settings: /settings
    "command.settings": "Cài đặt an toàn cho video của máy chủ này (mod)",
    "command.settings.show": "Xem nhanh mọi cài đặt an toàn của máy chủ này",
    "command.settings.channels": "Những kênh được dùng /video trong máy chủ này",
    "command.settings.channels.add": "Cho phép /video trong một kênh: khi đã có danh sách, chỉ kênh trong đó dùng được",
    "command.settings.channels.remove": "Thôi cho phép /video trong một kênh: khi danh sách trống, kênh nào cũng được",
    "command.settings.channels.list": "Các kênh được dùng /video",
    "command.settings.blocklist": "Các từ và cụm từ bị chặn trong mô tả",
    "command.settings.blocklist.add": "Chặn mô tả có một từ hoặc cụm từ (* thay cho các chữ cái trong một từ)",
    "command.settings.blocklist.remove": "Bỏ chặn một từ hoặc cụm từ",
    "command.settings.blocklist.list": "Các từ và cụm từ máy chủ này chặn trong mô tả",
    "command.settings.blocklist.default": "Bật hoặc tắt danh sách chặn có sẵn",
    "command.settings.presets": "Những preset máy chủ này cho phép",
    "command.settings.presets.disable": "Tắt một preset trong máy chủ này",
    "command.settings.presets.enable": "Bật lại một preset trong máy chủ này",
    "command.settings.presets.sensitive": "Cho phép preset nhạy cảm trong kênh giới hạn độ tuổi, hoặc không ở đâu cả",
    "command.settings.limits": "Độ dài video và số bước tối đa của máy chủ, thấp hơn mức của preset",
    "option.channel": "Kênh",
    "option.term": "Một từ hoặc cụm từ; * thay cho chữ cái bất kỳ trong một từ (kill* chặn cả killing)",
    "option.scope": "Chặn ở đâu (mặc định là mọi nơi)",
    "choice.scope.everywhere": "Mọi nơi",
    "choice.scope.outside_age_restricted": "Chỉ ngoài các kênh giới hạn độ tuổi",
    "option.enabled": "Bật (true) hoặc tắt (false)",
    "option.settings_preset": "Preset",
    "option.allow_sensitive": "true: chỉ cho phép trong kênh giới hạn độ tuổi; false: không cho phép ở đâu cả",
    "option.max_seconds": "Độ dài video tối đa, tính bằng giây (0: theo mức của preset)",
    "option.max_steps": "Số bước khử nhiễu tối đa mỗi video (0: theo mức của preset)",
    "settings.channel_not_allowed": (
        "Trong máy chủ này, /video chỉ dùng được trong {channels} và các chủ đề của chúng. Bạn chưa bị trừ credit nào."
    ),
    "settings.preset_disabled": (
        "Preset `{preset}` đã bị tắt trong máy chủ này. Bạn có thể dùng {allowed}. Bạn chưa bị trừ credit nào."
    ),
    "settings.preset_disabled_none": (
        "Preset `{preset}` đã bị tắt trong máy chủ này, và ở đây không còn preset nào khác đang bật. "
        "Bạn chưa bị trừ credit nào."
    ),
    "settings.sensitive_preset_age_restricted": (
        "Preset `{preset}` được đánh dấu nhạy cảm: máy chủ này chỉ cho phép nó trong kênh giới hạn độ tuổi. "
        "Bạn chưa bị trừ credit nào."
    ),
    "settings.sensitive_preset_refused": (
        "Preset `{preset}` được đánh dấu nhạy cảm, và máy chủ này không cho phép preset nhạy cảm. "
        "Bạn chưa bị trừ credit nào."
    ),
    "settings.above_max_duration": (
        "Máy chủ này chỉ cho phép video dài tối đa {maximum} giây: bạn hãy chọn độ dài ngắn hơn hoặc preset khác. "
        "Bạn chưa bị trừ credit nào."
    ),
    "settings.above_max_steps": (
        "Máy chủ này chỉ cho phép tối đa {maximum} bước mỗi video: bạn hãy chọn ít bước hơn hoặc preset khác. "
        "Bạn chưa bị trừ credit nào."
    ),
    "settings.prompt_blocked": (
        "Phần {field} của bạn có từ ngữ mà máy chủ này không cho phép. Bạn hãy viết lại nhé. "
        "Bạn chưa bị trừ credit nào."
    ),
    "settings.prompt_blocked_age_restricted": (
        "Phần {field} của bạn có từ ngữ mà máy chủ này chỉ cho phép trong kênh giới hạn độ tuổi. "
        "Bạn hãy viết lại, hoặc gửi yêu cầu trong một kênh giới hạn độ tuổi. Bạn chưa bị trừ credit nào."
    ),
    "settings.term_empty": "Bạn hãy nhập từ hoặc cụm từ. Chưa có gì bị thay đổi.",
    "settings.term_too_long": "Mục đó dài quá: bạn hãy viết tối đa {limit} ký tự. Chưa có gì bị thay đổi.",
    "settings.term_too_many_words": (
        "Mỗi mục chặn chỉ được có tối đa {limit} chữ (tính theo dấu cách). Chưa có gì bị thay đổi."
    ),
    "settings.term_too_broad": (
        "Mục đó sẽ chặn gần như mọi mô tả: nó cần ít nhất {limit} chữ cái hoặc chữ số ngoài `*`. "
        "Chưa có gì bị thay đổi."
    ),
    "settings.list_full.channels": (
        "Máy chủ này đã có {limit} kênh cho /video, mức tối đa rồi. Bạn hãy gỡ bớt một kênh trước. "
        "Chưa có gì bị thay đổi."
    ),
    "settings.list_full.blocklist": (
        "Danh sách chặn của máy chủ này đã có {limit} mục, mức tối đa rồi. Bạn hãy gỡ bớt một mục trước. "
        "Chưa có gì bị thay đổi."
    ),
    "settings.unchanged.video_channel_add": "Kênh đó đã có trong danh sách rồi. Chưa có gì bị thay đổi.",
    "settings.unchanged.video_channel_remove": "Kênh đó không có trong danh sách. Chưa có gì bị thay đổi.",
    "settings.unchanged.blocklist_add": (
        "Mục đó đã có trong danh sách chặn rồi (chặn ở mọi nơi). Chưa có gì bị thay đổi."
    ),
    "settings.unchanged.blocklist_add_sensitive": (
        "Mục đó đã có trong danh sách chặn rồi (chặn ngoài các kênh giới hạn độ tuổi). Chưa có gì bị thay đổi."
    ),
    "settings.unchanged.blocklist_remove": (
        "Mục đó không có trong danh sách chặn của máy chủ này. Chưa có gì bị thay đổi."
    ),
    "settings.unchanged.blocklist_default": "Danh sách chặn có sẵn đã được đặt như vậy rồi. Chưa có gì bị thay đổi.",
    "settings.unchanged.sensitive_presets": "Preset nhạy cảm đã được đặt như vậy rồi. Chưa có gì bị thay đổi.",
    "settings.unchanged.preset_disable": "Preset đó đã tắt ở đây rồi. Chưa có gì bị thay đổi.",
    "settings.unchanged.preset_enable": "Preset đó không bị tắt ở đây. Chưa có gì bị thay đổi.",
    "settings.unchanged.max_duration": "Độ dài video tối đa đã được đặt như vậy rồi. Chưa có gì bị thay đổi.",
    "settings.unchanged.max_steps": "Số bước tối đa đã được đặt như vậy rồi. Chưa có gì bị thay đổi.",
    "settings.title": "**Cài đặt an toàn của máy chủ này**",
    "settings.channels_anywhere": "/video: trong mọi kênh mình đăng được",
    "settings.channels_listed": "/video: chỉ trong {channels} và các chủ đề của chúng",
    "settings.blocklist_summary": "Danh sách chặn: {count} mục riêng của máy chủ · danh sách có sẵn: {default}",
    "settings.presets_all_on": "Preset: tất cả đều bật",
    "settings.presets_off": "Preset đã tắt ở đây: {presets}",
    "settings.sensitive_on": "Preset nhạy cảm: chỉ cho phép trong kênh giới hạn độ tuổi",
    "settings.sensitive_off": "Preset nhạy cảm: không cho phép",
    "settings.limits": "Video dài nhất: {duration} · số bước tối đa: {steps}",
    "settings.no_maximum": "theo mức của preset",
    "settings.blocklist_title": "**Danh sách chặn của máy chủ này**, áp dụng cho phần mô tả và phần loại trừ:",
    "settings.blocklist_everywhere": "Mọi nơi: {terms}",
    "settings.blocklist_sensitive": "Ngoài các kênh giới hạn độ tuổi: {terms}",
    "settings.blocklist_empty": "Máy chủ này chưa có mục chặn riêng nào.",
    "settings.blocklist_default_on": "**Danh sách có sẵn đang bật**, và chặn thêm:",
    "settings.blocklist_default_off": (
        "Danh sách có sẵn đang tắt (`/cài-đặt danh-sách-chặn mặc-định bật:true` sẽ bật nó lên)."
    ),
    "value.on": "bật",
    "value.off": "tắt",
    "audit.video_channel_add": "đã cho phép /video trong {target}",
    "audit.video_channel_remove": "đã gỡ {target} khỏi danh sách kênh /video",
    "audit.blocklist_add": "đã chặn {after} trong mô tả ở mọi nơi",
    "audit.blocklist_add_sensitive": "đã chặn {after} trong mô tả ngoài các kênh giới hạn độ tuổi",
    "audit.blocklist_remove": "đã bỏ chặn {before}",
    "audit.blocklist_default": "danh sách chặn có sẵn {before} → {after}",
    "audit.sensitive_presets": "preset nhạy cảm trong kênh giới hạn độ tuổi {before} → {after}",
    "audit.preset_disable": "đã tắt preset {after}",
    "audit.preset_enable": "đã bật lại preset {before}",
    "audit.max_duration": "video dài nhất (giây) {before} → {after}",
    "audit.max_steps": "số bước tối đa mỗi video {before} → {after}",
    # /help and the bot's presence
    "command.help": "Cách làm video ở đây: /video và các tùy chọn, credit của bạn, các nút, bộ sưu tập",
    "help.error": "Có lỗi xảy ra ở phía mình. Bạn thử lại /trợ-giúp sau giây lát nhé.",
    "help.title": "Làm video với bot này",
    "help.intro": (
        "Bạn mô tả một cảnh, mình biến nó thành video ngắn do AI tạo và đăng vào kênh nơi bạn yêu cầu. "
        "Chỉ bạn mới thấy tin nhắn này."
    ),
    "help.loading": (
        "**Mô hình video đang được tải** (mất vài phút sau khi bot khởi động): video bạn yêu cầu lúc này sẽ chờ trong "
        "hàng đợi và được tạo khi mô hình sẵn sàng."
    ),
    "help.video": "Chỉ phần mô tả là bắt buộc; các tùy chọn khác tùy bạn:",
    "help.option": "`{name}` · {description}",
    "help.video_answer": (
        "Câu trả lời đầu tiên của mình cho biết thông số sẽ dùng và chi phí của video, rồi đến tiến độ: nút **Hủy** "
        "ở đó sẽ dừng video và hoàn lại credit. {jobs} liệt kê các video gần đây của bạn."
    ),
    "help.flags_title": "Tham số trong mô tả",
    "help.flags": (
        "Quen dùng các công cụ tạo ảnh, video khác? Thêm những tham số này vào cuối mô tả, mình sẽ dùng chúng như "
        "tùy chọn và báo cho bạn biết:\n`--ar 9:16` khung hình · `--seed 42` seed · `--no text, logos` những gì "
        "video nên tránh"
    ),
    "help.credits_title": "Credit của bạn trong máy chủ này",
    "help.credits": (
        "Mỗi video đều tốn credit: nhiều hơn nếu video dài hơn, lớn hơn hoặc mịn hơn, và nhiều hơn với mô hình nặng "
        "hơn. Ở đây bạn có {allowance} credit ({window}); bạn còn {left}, và sẽ có thêm {resets_at}."
    ),
    "help.credits_unlimited": "Mỗi video đều tốn credit, nhưng vai trò của bạn ở đây không giới hạn credit.",
    "help.credits_default": (
        "Video mặc định tốn {cost} credit. Video không thành công hoặc bị hủy sẽ được hoàn lại credit. "
        "{quota_me} cho biết credit của bạn bất cứ lúc nào."
    ),
    "help.banned": "Một mod đã tắt quyền làm video của bạn trong máy chủ này.",
    "help.buttons_title": "Các nút dưới video đã đăng",
    "help.buttons": (
        "**Thả sao**: bình chọn cho video trong bộ sưu tập của máy chủ (bấm lần nữa để rút lại)\n"
        "**Tạo lại**: cùng thông số với seed mới; video mới là của bạn, và tốn credit của bạn\n"
        "**Chi tiết**: mọi thông số, seed, thời gian tạo, và một lệnh để làm lại video\n"
        "**Xóa**: người yêu cầu video, hoặc mod, gỡ bài đăng"
    ),
    "help.gallery_title": "Bộ sưu tập",
    "help.gallery": (
        "Video đã đăng sẽ vào bộ sưu tập của máy chủ: xem bằng {recent}, {top} và {member}. {optout} rút mọi video "
        "của bạn ra, kể cả video làm sau này ({optin} đưa chúng trở lại), còn {delete} xóa hẳn một video của bạn."
    ),
    "help.moderators_title": "Dành cho mod",
    "help.moderators": (
        "{quota} đặt credit và lúc làm mới, {queue} tạm dừng và sắp xếp hàng đợi, {mod} cấm thành viên và xem nhật "
        "ký, {settings} chọn nơi dùng được {video} và những mô tả bị từ chối."
    ),
    "status.model_loading": (
        "Mô hình video đang được tải (mất vài phút sau khi bot khởi động): video của bạn sẽ bắt đầu được tạo khi mô "
        "hình sẵn sàng"
    ),
    "presence.loading": "Đang tải mô hình video…",
    "model.unavailable": (
        "Mô hình video của bot không khởi động được nên hiện mình chưa làm video được. Bạn chưa bị trừ credit nào; "
        "bạn thử lại sau nhé."
    ),
    "presence.queue": "{count} video trong hàng đợi · /trợ-giúp",
}

VIETNAMESE_NAMES: Mapping[str, str] = {
    # Commands, by their full English name. Lowercase, words joined by "-" as the English ones are; where
    # Vietnamese members say the English word (video, mod), it stays.
    "/video": "video",
    "/quota": "hạn-mức",
    "/quota me": "của-tôi",
    "/quota show": "xem",
    "/quota set-default": "đặt-mặc-định",
    "/quota set-role": "đặt-vai-trò",
    "/quota set-member": "đặt-thành-viên",
    "/quota grant": "tặng",
    "/quota reset": "đặt-lại",
    "/quota window": "chu-kỳ",
    "/mod": "mod",
    "/mod ban": "cấm",
    "/mod unban": "bỏ-cấm",
    "/mod audit": "nhật-ký",
    "/mod role": "vai-trò",
    "/jobs": "yêu-cầu",
    "/jobs list": "danh-sách",
    "/jobs cancel": "hủy",
    "/queue": "hàng-đợi",
    "/queue show": "xem",
    "/queue pause": "tạm-dừng",
    "/queue resume": "tiếp-tục",
    "/queue priority": "ưu-tiên",
    "/gallery": "bộ-sưu-tập",
    "/gallery recent": "mới-nhất",
    "/gallery top": "nhiều-sao",
    "/gallery member": "thành-viên",
    "/gallery optout": "rời-khỏi",
    "/gallery optin": "tham-gia",
    "/gallery delete": "xóa",
    "/gallery settings": "cài-đặt",
    "/gallery hide": "ẩn",
    "/gallery unhide": "bỏ-ẩn",
    "/settings": "cài-đặt",
    "/settings show": "xem",
    "/settings channels": "kênh",
    "/settings channels add": "thêm",
    "/settings channels remove": "gỡ",
    "/settings channels list": "danh-sách",
    "/settings blocklist": "danh-sách-chặn",
    "/settings blocklist add": "thêm",
    "/settings blocklist remove": "gỡ",
    "/settings blocklist list": "xem",
    "/settings blocklist default": "mặc-định",
    "/settings presets": "preset",
    "/settings presets disable": "tắt",
    "/settings presets enable": "bật",
    "/settings presets sensitive": "nhạy-cảm",
    "/settings limits": "giới-hạn",
    "/help": "trợ-giúp",
    # Options, by their English name, wherever they appear; words joined by "_" as the English ones are.
    "prompt": "mô_tả",
    "negative_prompt": "loại_trừ",
    "seed": "seed",
    "preset": "preset",
    "member": "thành_viên",
    "credits": "credit",
    "role": "vai_trò",
    "unlimited": "không_giới_hạn",
    "kind": "kiểu",
    "reset_hour": "giờ_làm_mới",
    "reason": "lý_do",
    "job": "mã",
    "weight": "trọng_số",
    "public": "công_khai",
    "channel": "kênh",
    "clear_channel": "bỏ_kênh",
    "new_link": "liên_kết_mới",
    "aspect": "khung_hình",
    "duration": "độ_dài",
    "steps": "số_bước",
    "term": "từ_khóa",
    "scope": "phạm_vi",
    "enabled": "bật",
    "allow": "cho_phép",
    "max_seconds": "số_giây_tối_đa",
    "max_steps": "số_bước_tối_đa",
}
